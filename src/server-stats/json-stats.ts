/**
 * JSON stats endpoints (CONTRACTS §3: seed 002's `/stream/stats` returns
 * `{active_admin_connections, ..., admins: [[salon_id, user_id], ...], customers: [...]}`).
 * Every numeric leaf becomes a figure named by its path (`a.b[0].c`), every array a
 * `<path>.length` figure. Arrays that list one entry per connection can hold thousands of ids,
 * so leaves *inside* arrays are listed only for short arrays of objects (≤ 20 entries, e.g.
 * per-worker blocks); the rest stay reachable by path through `selectJsonPath`.
 */
import { readJsonPath } from '../core/json-path.js';
import { ProtocolError } from '../core/errors.js';
import type { ServerFigure } from './types.js';

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
    } else if (typeof value === 'boolean') {
      figures.push({ name: path === '' ? '.' : path, value: value ? 1 : 0, kind: 'untyped', labels: {}, text: String(value) });
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

/**
 * The number at a path: a number; an array's length (the path names the array, or ends in
 * `.length`); a boolean as 1/0; a numeric string. Undefined when absent or not a number.
 */
export function selectJsonPath(json: unknown, path: string): number | undefined {
  return toNumber(readJsonPath(json, path));
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.length;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/** A warning when the JSON holds no number at all, only text, flags and lists: an index page (serve's `/`), not stats. */
export function notStatsWarning(figures: readonly ServerFigure[]): string | undefined {
  if (figures.some((f) => !f.name.endsWith('.length') && f.text === undefined)) return undefined;
  return 'this JSON holds no number, only text and lists: is it a stats endpoint? (an index page looks like this)';
}
