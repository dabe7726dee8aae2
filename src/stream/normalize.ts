/**
 * The normalized event type (CONTRACTS §2, the seed 001 client rule): seed 000's server writes
 * `data: {"event":"order.created",...}` with no `event:` field, so the type lives in the JSON.
 */

/**
 * Returns the normalized type: when the event field was absent (`message`) and the data is a
 * JSON object with a string `event` or `type`, that value; otherwise the dispatched type.
 */
export function normalizeType(type: string, data: string): string {
  if (type !== 'message') return type;
  const parsed = parseJsonObject(data);
  if (parsed === undefined) return type;
  const inner = typeof parsed['event'] === 'string' ? parsed['event'] : parsed['type'];
  return typeof inner === 'string' && inner !== '' ? inner : type;
}

/** Parses `data` when it looks like a JSON object; undefined otherwise (cheap first-byte check). */
export function parseJsonObject(data: string): Record<string, unknown> | undefined {
  if (data.length < 2 || data.charCodeAt(0) !== 0x7b /* { */) {
    const trimmed = data.trimStart();
    if (!trimmed.startsWith('{')) return undefined;
  }
  try {
    const value: unknown = JSON.parse(data);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Parses any JSON value; `{ok: false}` when `data` is not JSON. */
export function tryParseJson(data: string): { ok: true; value: unknown } | { ok: false } {
  const first = data.trimStart().charCodeAt(0);
  // Only strings that can start a JSON text are worth a try/catch.
  const canBeJson = first === 0x7b || first === 0x5b || first === 0x22 || first === 0x2d || (first >= 0x30 && first <= 0x39) || first === 0x74 || first === 0x66 || first === 0x6e;
  if (!canBeJson) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(data) as unknown };
  } catch {
    return { ok: false };
  }
}
