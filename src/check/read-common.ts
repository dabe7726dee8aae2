/**
 * Contract readers more than one check kind uses: a producer step (`produce:`), a JSON Schema
 * field, an identity name. Problems go to the file's list (see `fields.ts`).
 */
import type { Fields } from './fields.js';
import type { CheckBase, CheckOverrides, ProduceStep } from './plan.js';
import { compileSchema, type CompiledSchema } from './schema.js';

/** What a kind's reader gets besides its section. */
export interface ReadEnv {
  readonly overrides: CheckOverrides;
  /** Names of the contract's identities (an `as:` must name one). */
  readonly identityNames: ReadonlySet<string>;
}

/** Reads one check kind's section into its spec. */
export type CheckReader<S> = (fields: Fields, base: CheckBase, env: ReadEnv) => S;

/** Fields every check may have (see `CheckBase`). */
export const BASE_KEYS = ['kind', 'cites', 'stream', 'as'] as const;

const METHOD_RE = /^(GET|POST|PUT|PATCH|DELETE)\s+(\S+)$/;

/** `POST /logout` → its method and path; undefined when it is not `<METHOD> <path>`. */
export function parseRequestLine(text: string): { readonly method: string; readonly url: string } | undefined {
  const match = METHOD_RE.exec(text.trim());
  return match === null ? undefined : { method: match[1] as string, url: match[2] as string };
}
const STEP_FIELDS = ['request', 'url', 'body', 'as', 'expect'];

/**
 * A producer step: `request: POST /orders` (a call on the target) or `url:` (an http, redis or
 * amqp URL, as `ssekit publish` takes), a `body` (a string, or a mapping written as JSON), the
 * identity it is made `as`, and the event type it should `expect` on the stream.
 */
export function readProduceStep(f: Fields, base: CheckBase, env: ReadEnv): ProduceStep {
  f.allowOnly(STEP_FIELDS);
  let method = 'POST';
  let url = '';
  const request = f.string('request');
  if (request !== undefined) {
    const line = parseRequestLine(request);
    if (line === undefined) f.problem(`must be '<METHOD> <path>', such as 'POST /orders' (got ${JSON.stringify(request)})`, 'request');
    else ({ method, url } = line);
  } else url = f.string('url') ?? '';
  if (url === '') f.problem("needs 'request: POST /path' or 'url:'");
  const rawBody = f.raw('body');
  const body = rawBody === undefined || rawBody === null ? undefined : typeof rawBody === 'string' ? rawBody : JSON.stringify(rawBody);
  return { method, url, body, as: readIdentity(f, 'as', base.as, env), expect: f.string('expect') };
}

/** The producer steps of `key`: one mapping or a list of them. */
export function readProduceSteps(f: Fields, key: string, base: CheckBase, env: ReadEnv): ProduceStep[] {
  return f.sections(key).map((step) => readProduceStep(step, base, env));
}

/** An identity name that the contract defines. */
export function readIdentity(f: Fields, key: string, fallback: string, env: ReadEnv): string {
  const name = f.string(key, fallback) ?? fallback;
  if (!env.identityNames.has(name)) f.problem(`names identity '${name}', which is not in identities (${[...env.identityNames].join(', ') || 'none'})`, key);
  return name;
}

/** A JSON Schema (a mapping), compiled; undefined when absent or broken (a problem then). */
export function readSchema(f: Fields, key: string): CompiledSchema | undefined {
  const raw = f.raw(key);
  if (raw === undefined || raw === null) return undefined;
  const compiled = compileSchema(raw);
  if (typeof compiled === 'string') {
    f.problem(compiled, key);
    return undefined;
  }
  return compiled;
}

/**
 * The required `produce:` step of a check whose deliveries are matched by their marker: a
 * placeholder step after a problem, so reading goes on.
 */
export function readNonceStep(f: Fields, base: CheckBase, env: ReadEnv, why: string): ProduceStep {
  const section = f.section('produce');
  if (section === undefined) {
    f.problem('is required', 'produce');
    return { method: 'POST', url: '', as: base.as };
  }
  const produce = readProduceStep(section, base, env);
  if (produce.body?.includes('{{nonce}}') !== true) f.problem(`needs {{nonce}} in its body: ${why}`, 'produce.body');
  return produce;
}
