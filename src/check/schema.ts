/**
 * JSON Schema for event payloads and stats bodies, with ajv (the most used and maintained
 * validator for Node; draft 2020-12 and 07) and ajv-formats (`date-time`, `uuid`, `date`: the
 * seeds' payloads are full of them). Schemas are compiled when the contract is read, so a
 * schema with a typo (an unknown keyword: ajv's strict mode) is a usage error before any check
 * runs, reported with every other problem of the file.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/** A compiled schema. */
export interface CompiledSchema {
  /** The problems of `value` against the schema, one short line each (at most `max`); empty when valid. */
  readonly problemsOf: (value: unknown, max?: number) => string[];
}

// One validator per process: compiling is the costly part, and every schema is compiled once.
let ajv: Ajv | undefined;

function validator(): Ajv {
  if (ajv === undefined) {
    // Strict about what catches typos (unknown keywords, formats); not about style (`required`
    // naming a property that `properties` does not describe is plain JSON Schema). Nothing is
    // logged: ajv's logger would write to the console behind the reporters' back.
    ajv = new Ajv({ allErrors: true, strictSchema: true, strictNumbers: true, strictTypes: false, strictTuples: false, strictRequired: false, allowUnionTypes: true, logger: false });
    addFormatsModule.default(ajv);
  }
  return ajv;
}

/** Compiles a schema; a string saying why when it is not a valid one. */
export function compileSchema(schema: unknown): CompiledSchema | string {
  if (schema === null || (typeof schema !== 'object' && typeof schema !== 'boolean')) return 'must be a JSON Schema (a mapping)';
  let validate: ValidateFunction;
  try {
    validate = validator().compile(schema as object);
  } catch (error) {
    return `is not a valid JSON Schema: ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}`;
  }
  return {
    problemsOf(value, max = 5) {
      if (validate(value)) return [];
      return (validate.errors ?? []).slice(0, max).map(describeSchemaError);
    },
  };
}

/** `/data/boxes_count must be integer`, `must have required property 'order_id'` (at the root: `(root)`). */
function describeSchemaError(error: ErrorObject): string {
  return `${error.instancePath === '' ? '(root)' : error.instancePath} ${error.message ?? 'is invalid'}`;
}
