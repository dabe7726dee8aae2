/**
 * What a server said in an error body, as one short line that is safe for a terminal: the
 * `code`, `detail`, `message` or `error` of a JSON body (FastAPI's `{"detail": "Not
 * authenticated"}`, its 422 `{"detail": [{"loc": [...], "msg": ...}]}`, CONTRACTS §5's
 * `{"code": "stream_limit"}`), else the start of the text. Control characters are escaped: a
 * hostile body must not drive the terminal (an OSC 52 sequence writes the clipboard).
 */
import { escapeControl } from './escape.js';

const FIELDS = ['code', 'detail', 'message', 'error'] as const;
const MAX_CHARS = 200;

/** The quoted gist of an error body; undefined when the body is empty. */
export function describeServerBody(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const fromJson = jsonGist(trimmed);
  const gist = fromJson ?? JSON.stringify(clip(trimmed.replace(/\s+/g, ' ')));
  return escapeControl(gist, false);
}

function jsonGist(text: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  const parts: string[] = [];
  for (const field of FIELDS) {
    const value = describeValue(record[field]);
    if (value !== undefined) parts.push(`${field}: ${JSON.stringify(clip(value))}`);
  }
  return parts.length === 0 ? undefined : parts.join(', ');
}

/** A string, or FastAPI's list of validation errors (`loc` and `msg`), as text. */
function describeValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (!Array.isArray(value)) return undefined;
  const items = value.slice(0, 3).map((item) => {
    if (item === null || typeof item !== 'object') return String(item);
    const { loc, msg } = item as { loc?: unknown; msg?: unknown };
    const where = Array.isArray(loc) ? loc.join('.') : undefined;
    return `${where === undefined ? '' : `${where}: `}${typeof msg === 'string' ? msg : JSON.stringify(item)}`;
  });
  return `${items.join('; ')}${value.length > 3 ? ` (+${value.length - 3} more)` : ''}`;
}

function clip(text: string): string {
  return text.length > MAX_CHARS ? `${text.slice(0, MAX_CHARS)}…` : text;
}
