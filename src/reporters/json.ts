/** JSON output: NaN and infinities become null (JSON has neither), histograms are encoded. */

/** `JSON.stringify` with non-finite numbers as null. */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), indent);
}
