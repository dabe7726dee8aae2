/**
 * Reading a contract's sections with every problem collected, not just the first (STYLE
 * "Validation reports every problem at once"): each reader is bound to one mapping and its
 * dotted path, so a problem reads `admin-orders.yaml: checks.heartbeat.interval must be a
 * duration with a unit, such as 30s`. Readers return a fallback after a problem so the rest of
 * the file is still read.
 */
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';

/** The problems found in one file. */
export interface ProblemList {
  readonly add: (line: string) => void;
  /** Throws one `UsageError` listing them all (exit 2), when there are any. */
  readonly throwIfAny: () => void;
}

/** Collects problems for the file named `source`. */
export function createProblemList(source: string): ProblemList {
  const lines: string[] = [];
  return {
    add: (line) => void lines.push(line),
    throwIfAny() {
      if (lines.length === 0) return;
      const first = lines[0] as string;
      throw new UsageError(lines.length === 1 ? `${source}: ${first}` : `${lines.length} problems in ${source}:\n  ${lines.join('\n  ')}`, { hint: 'the contract format is in the README (ssekit check)' });
    },
  };
}

/** Typed reads of one mapping of the contract. */
export interface Fields {
  readonly has: (key: string) => boolean;
  /** The mapping's keys, in the file's order. */
  readonly keys: () => string[];
  readonly raw: (key: string) => unknown;
  /** Records a problem about `key` (or the mapping itself). */
  readonly problem: (what: string, key?: string) => void;
  /** Flags keys not in `known` (keys starting with `x-` are left alone: YAML anchors to reuse live there). */
  readonly allowOnly: (known: readonly string[]) => void;
  readonly string: (key: string, fallback?: string) => string | undefined;
  readonly requiredString: (key: string) => string;
  /** A duration with a unit (`30s`, `500ms`); a bare number is refused, as on the command line. */
  readonly duration: (key: string, fallbackMs: number) => number;
  readonly integer: (key: string, fallback: number, min?: number) => number;
  readonly oneOf: <T extends string>(key: string, choices: readonly T[], fallback: T) => T;
  /** A nested mapping, or undefined when absent (a problem when it is not a mapping). */
  readonly section: (key: string) => Fields | undefined;
  /** One mapping or a list of them (`produce:`), a reader each (`produce[1]`); empty when absent. */
  readonly sections: (key: string) => Fields[];
  readonly stringList: (key: string) => readonly string[] | undefined;
  /** A mapping as a plain object (claims, JSON fields). */
  readonly mapping: (key: string) => Readonly<Record<string, unknown>> | undefined;
}

/** Where a reader reads: the mapping, its path, and how to record a problem about one of its keys. */
interface Site {
  readonly record: Readonly<Record<string, unknown>>;
  readonly where: (key?: string) => string;
  readonly problem: (what: string, key?: string) => void;
  readonly problems: ProblemList;
}

/** A reader over `value`, which must be a mapping; `path` names it in problems. */
export function readFields(value: unknown, path: string, problems: ProblemList): Fields {
  const isMapping = value !== null && typeof value === 'object' && !Array.isArray(value);
  const record: Readonly<Record<string, unknown>> = isMapping ? (value as Record<string, unknown>) : {};
  const where = (key?: string): string => [path, key].filter((part) => part !== undefined && part !== '').join('.');
  const problem = (what: string, key?: string): void => problems.add(`${where(key) === '' ? '' : `${where(key)} `}${what}`);
  if (!isMapping) problem('must be a mapping');
  const site: Site = { record, where, problem, problems };
  return {
    has: (key) => record[key] !== undefined && record[key] !== null,
    keys: () => Object.keys(record),
    raw: (key) => record[key],
    problem,
    allowOnly(known) {
      for (const key of Object.keys(record)) if (!known.includes(key) && !key.startsWith('x-')) problem(`is not a field here (known: ${known.join(', ')})`, key);
    },
    ...scalarReaders(site),
    ...structureReaders(site),
  };
}

/** Strings, durations, integers and choices. */
function scalarReaders({ record, where, problem }: Site): Pick<Fields, 'string' | 'requiredString' | 'duration' | 'integer' | 'oneOf'> {
  const string = (key: string, fallback?: string): string | undefined => {
    const v = record[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string' && v.trim() !== '') return v;
    if (typeof v === 'number') return String(v);
    problem('must be a non-empty string', key);
    return fallback;
  };
  return {
    string,
    requiredString(key) {
      if (record[key] === undefined || record[key] === null) {
        problem('is required', key);
        return '';
      }
      return string(key) ?? '';
    },
    duration(key, fallbackMs) {
      const v = record[key];
      if (v === undefined || v === null) return fallbackMs;
      if (typeof v === 'string') {
        try {
          return parseDuration(v, where(key));
        } catch {
          // The message below says the same for the file, without the flag wording.
        }
      }
      problem(`must be a duration with a unit, such as 500ms, 30s or 2m (got ${JSON.stringify(v)})`, key);
      return fallbackMs;
    },
    integer(key, fallback, min = 0) {
      const v = record[key];
      if (v === undefined || v === null) return fallback;
      if (typeof v === 'number' && Number.isInteger(v) && v >= min) return v;
      problem(`must be an integer ≥ ${min} (got ${JSON.stringify(v)})`, key);
      return fallback;
    },
    oneOf(key, choices, fallback) {
      const v = record[key];
      if (v === undefined || v === null) return fallback;
      if (typeof v === 'string' && (choices as readonly string[]).includes(v)) return v as (typeof choices)[number];
      problem(`must be one of ${choices.join(', ')} (got ${JSON.stringify(v)})`, key);
      return fallback;
    },
  };
}

/** Nested mappings and lists. */
function structureReaders({ record, where, problem, problems }: Site): Pick<Fields, 'section' | 'sections' | 'stringList' | 'mapping'> {
  const list = (key: string): readonly unknown[] | undefined => {
    const v = record[key];
    if (v === undefined || v === null) return undefined;
    if (Array.isArray(v)) return v;
    problem('must be a list', key);
    return undefined;
  };
  return {
    section(key) {
      const v = record[key];
      return v === undefined || v === null ? undefined : readFields(v, where(key), problems);
    },
    sections(key) {
      const v = record[key];
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v)) return [readFields(v, where(key), problems)];
      return v.map((item, index) => readFields(item, `${where(key)}[${index}]`, problems));
    },
    stringList(key) {
      const v = list(key);
      if (v === undefined) return undefined;
      if (v.every((item) => typeof item === 'string' && item !== '')) return v as string[];
      problem('must be a list of non-empty strings', key);
      return undefined;
    },
    mapping(key) {
      const v = record[key];
      if (v === undefined || v === null) return undefined;
      if (typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
      problem('must be a mapping', key);
      return undefined;
    },
  };
}
