/**
 * Duplicate streams: users holding more than one stream at once, the bug seed 001 describes
 * (double mounts, hot reload, components each opening their own EventSource). Found where JSON
 * stats list one entry per stream, as seed 002's `admins: [[salon_id, user_id], ...]` and
 * `customers: [user_id, ...]` (CONTRACTS §3): an entry listed twice is one user with two streams.
 */
import { joinKey } from './json-stats.js';
import type { ServerStats } from './types.js';

/** One user holding several streams. */
export interface DuplicateStreams {
  /** The list it was found in, as a JSON path (`admins`). */
  readonly list: string;
  /** The user's entry as listed (`[1,7]`, `501`, or the identity fields of an object). */
  readonly entry: string;
  readonly streams: number;
}

// Object entries are keyed by these fields when present (one stream described as an object).
const IDENTITY_FIELDS = ['user_id', 'userId', 'user', 'sub', 'subject', 'client_id', 'clientId', 'salon_id', 'store_id', 'tenant_id', 'role'];

const PEOPLE_LIST_RE = /(admin|customer|user|client|connection|stream|subscriber|session|member|viewer|listener|sub|id)s?(\]|"|$)/i;

/**
 * The users listed more than once, per list, most streams first. A list qualifies when its
 * entries are ids (numbers or strings), tuples of ids, or objects with identity fields; lists
 * of other shapes are skipped. Empty for non-JSON stats.
 */
export function findDuplicateStreams(stats: ServerStats): DuplicateStreams[] {
  if (stats.format !== 'json') return [];
  const found: DuplicateStreams[] = [];
  const visit = (value: unknown, path: string, depth: number): void => {
    if (depth > 6) return;
    if (Array.isArray(value)) {
      // Plain numbers may be measurements (`buckets: [0, 0, 3]`): only lists named after people or streams count.
      if (value.every((v) => typeof v === 'number') && !PEOPLE_LIST_RE.test(path)) return;
      const counts = new Map<string, number>();
      for (const item of value) {
        const key = identityOf(item);
        if (key === undefined) return; // Not a list of streams.
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      for (const [entry, streams] of counts) if (streams > 1) found.push({ list: path, entry, streams });
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [key, child] of Object.entries(value as Record<string, unknown>)) visit(child, joinKey(path, key), depth + 1);
    }
  };
  visit(stats.json, '', 0);
  return found.sort((a, b) => b.streams - a.streams || a.list.localeCompare(b.list) || a.entry.localeCompare(b.entry));
}

function isId(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function identityOf(item: unknown): string | undefined {
  if (isId(item)) return JSON.stringify(item);
  if (Array.isArray(item)) return item.length > 0 && item.length <= 4 && item.every(isId) ? JSON.stringify(item) : undefined;
  if (item !== null && typeof item === 'object') {
    const record = item as Record<string, unknown>;
    const fields = IDENTITY_FIELDS.filter((f) => isId(record[f]));
    if (fields.length === 0) return undefined;
    return fields.map((f) => `${f}=${String(record[f])}`).join(' ');
  }
  return undefined;
}
