/**
 * Terminal safety: a server's bytes must never drive the terminal (an ESC sequence in event
 * data could rewrite the screen or the title). C0 controls except LF and TAB, DEL and C1
 * controls become visible escapes.
 */
// eslint-style character class kept in one place: C0 minus \t \n, DEL, C1.
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Replaces control characters with `\xNN` / `\uNNNN` escapes. `keepNewlines` false escapes LF too. */
export function escapeControl(text: string, keepNewlines = true): string {
  const escaped = text.replace(CONTROL_RE, toEscape);
  return keepNewlines ? escaped : escaped.replace(/\n/g, '\\n');
}

function toEscape(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
