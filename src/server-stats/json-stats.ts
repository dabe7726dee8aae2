/**
 * JSON stats endpoints (CONTRACTS §3: seed 002's `/stream/stats` returns
 * `{active_admin_connections, ..., admins: [[salon_id, user_id], ...], customers: [...]}`).
 * Every numeric leaf becomes a figure named by its path (`a.b[0].c`), every array a
 * `<path>.length` figure. Arrays that list one entry per connection can hold thousands of ids,
 * so leaves *inside* arrays are listed only for short arrays of objects (≤ 20 entries, e.g.
 * per-worker blocks); the rest stay reachable by path through `selectJsonPath`.
 */
import { ProtocolError, UsageError } from '../core/errors.js';
import type { ServerFigure } from './read-stats.js';

/** Arrays of objects up to this length have their leaves listed as figures. */
export const MAX_LISTED_ARRAY = 20;

/** Parses the body; `ProtocolError` when it is not JSON. */
export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : 'invalid';
    throw new ProtocolError('SSEKIT_BAD_STATS', `stats JSON: not valid JSON (${why})`, { hint: 'if this is not JSON, give --format prometheus or --format status-page' });
  }
}

/** The figures of a parsed JSON document (see the file comment for what is listed). */
export function jsonFigures(json: unknown): ServerFigure[] {
  const figures: ServerFigure[] = [];
  const visit = (value: unknown, path: string): void => {
    if (typeof value === 'number') {
      figures.push({ name: path === '' ? '.' : path, value, kind: 'untyped', labels: {} });
    } else if (Array.isArray(value)) {
      figures.push({ name: `${path === '' ? '' : path}.length`, value: value.length, kind: 'gauge', labels: {} });
      const isObjects = value.length <= MAX_LISTED_ARRAY && value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v));
      if (isObjects) value.forEach((item, i) => visit(item, `${path}[${i}]`));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) visit(child, joinKey(path, key));
    }
  };
  visit(json, '');
  return figures;
}

/** `a.b`, or `a["odd key"]` for keys that are not plain identifiers. */
export function joinKey(path: string, key: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

type Step = { readonly kind: 'key'; readonly key: string } | { readonly kind: 'index'; readonly index: number };

/** Parses `a.b[0].c`, `a["x.y"]`, `admins.length`. `UsageError` for a malformed path. */
export function parseJsonPath(path: string): Step[] {
  const steps: Step[] = [];
  let pos = path.startsWith('$') ? 1 : 0;
  if (path[pos] === '.') pos += 1;
  const bad = (why: string): never => {
    throw new UsageError(`JSON path '${path}': ${why}`, { hint: 'e.g. total_connections, stats.workers[0].active, admins.length' });
  };
  while (pos < path.length) {
    if (path[pos] === '[') {
      const close = path.indexOf(']', pos);
      if (close === -1) bad("missing ']'");
      const inner = path.slice(pos + 1, close).trim();
      if (/^\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^(".*"|'.*')$/.test(inner)) steps.push({ kind: 'key', key: inner.startsWith('"') ? (JSON.parse(inner) as string) : inner.slice(1, -1) });
      else bad(`'[${inner}]' is neither an index nor a quoted key`);
      pos = close + 1;
      if (path[pos] === '.') pos += 1;
      continue;
    }
    const match = /^[^.[\]]+/.exec(path.slice(pos));
    if (match === null) bad(`unexpected '${path[pos] ?? ''}'`);
    const key = (match as RegExpExecArray)[0];
    steps.push({ kind: 'key', key });
    pos += key.length;
    if (path[pos] === '.') {
      pos += 1;
      if (pos === path.length) bad('ends with a dot');
    }
  }
  return steps;
}

/**
 * The number at a path: a number; an array's length (the path names the array, or ends in
 * `.length`); a boolean as 1/0; a numeric string. Undefined when absent or not a number.
 */
export function selectJsonPath(json: unknown, path: string): number | undefined {
  const steps = parseJsonPath(path);
  let current: unknown = json;
  for (const [i, step] of steps.entries()) {
    if (step.kind === 'index') {
      if (!Array.isArray(current)) return undefined;
      current = current[step.index];
      continue;
    }
    if (Array.isArray(current) && step.key === 'length' && i === steps.length - 1) return current.length;
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, step.key)) return undefined;
    current = (current as Record<string, unknown>)[step.key];
  }
  return toNumber(current);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}
