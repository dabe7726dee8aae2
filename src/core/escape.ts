/**
 * Terminal safety: a server's bytes must never drive the terminal (an ESC sequence in event
 * data could rewrite the screen or the title; a C1 CSI (U+009B) does the same on terminals that
 * take 8-bit controls; U+2028/2029 break lines where a reader expects none). C0 controls except
 * LF and TAB, DEL and C1 controls become visible escapes. Every server-supplied text that goes
 * into an error or status line (a Content-Type, an error body, a header value) passes through
 * `quoteServerText` first.
 */
// eslint-style character class kept in one place: C0 minus \t \n, DEL, C1, LS, PS.
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
// What JSON.stringify leaves raw that a terminal or a JavaScript `eval` of a line would not:
// DEL, C1 controls, LS and PS (JSON itself allows them; ECMAScript before 2019 did not).
const JSON_UNSAFE_RE = /[\u007f-\u009f\u2028\u2029]/g;

/** Replaces control characters with `\xNN` / `\uNNNN` escapes. `keepNewlines` false escapes LF too. */
export function escapeControl(text: string, keepNewlines = true): string {
  const escaped = text.replace(CONTROL_RE, toEscape);
  return keepNewlines ? escaped : escaped.replace(/\n/g, '\\n');
}

/**
 * Escapes DEL, C1 controls and U+2028/2029 in JSON text as `\u00NN` / `\u2028`: still the same
 * JSON value, but safe to print (JSON.stringify already escapes C0 controls).
 */
export function escapeJsonText(json: string): string {
  return json.replace(JSON_UNSAFE_RE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A server's text as a quoted, escaped string for a one-line message, cut at `maxChars` (default 200). */
export function quoteServerText(text: string, maxChars = 200): string {
  const cut = text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
  return escapeJsonText(JSON.stringify(cut));
}

/**
 * The text worth quoting from a JSON error body: the first string among `code`, `detail`,
 * `message` and `error` (CONTRACTS §5 `{"code":"stream_limit"}`; FastAPI's
 * `{"detail":"Not authenticated"}`; its 422 `{"detail":[{"msg":...}]}`; Spring's
 * `{"error":"Forbidden","message":"…"}`, where `error` is only the status's name;
 * `{"error":{"message":...}}`).
 * Undefined for a body that is not such JSON. Not escaped: quote it with `quoteServerText`.
 */
export function errorBodySummary(body: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  for (const field of ['code', 'detail', 'message', 'error']) {
    const text = textOf(record[field]);
    if (text !== undefined) return text;
  }
  return undefined;
}

/**
 * A string; the `msg`/`message`/`code` of an object (with FastAPI's `loc` before it:
 * `body.boxes_count: field required`); or those of an array's first three elements, joined.
 */
function textOf(value: unknown, depth = 0): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (depth > 1 || value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    const items = value.slice(0, 3).map((item) => textOf(item, depth + 1)).filter((t): t is string => t !== undefined);
    return items.length === 0 ? undefined : `${items.join('; ')}${value.length > 3 ? ` (+${value.length - 3} more)` : ''}`;
  }
  const record = value as Record<string, unknown>;
  const where = Array.isArray(record['loc']) ? `${record['loc'].join('.')}: ` : '';
  for (const field of ['msg', 'message', 'code']) {
    if (typeof record[field] === 'string' && record[field] !== '') return `${where}${record[field] as string}`;
  }
  return undefined;
}

function toEscape(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
