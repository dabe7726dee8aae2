/**
 * Body templates for published events: `{{seq}}` (0-based sequence number), `{{uuid}}`,
 * `{{now}}` (ISO time), `{{ts}}` (ms since epoch) and `{{nonce}}` (the correlation marker
 * ssekit searches for in delivered events). Compiled once, rendered per event.
 */
import { randomUUID } from 'node:crypto';
import { UsageError } from '../core/errors.js';

const PLACEHOLDER_RE = /\{\{\s*([a-zA-Z_]+)\s*\}\}/g;
const KNOWN = new Set(['seq', 'uuid', 'now', 'ts', 'nonce']);

/** A compiled template. */
export interface BodyTemplate {
  /** Renders the body for one event; `nonce` is that event's marker. */
  render(seq: number, nonce: string): string;
  /** Whether the template has `{{nonce}}` (marker correlation possible). */
  readonly hasNonce: boolean;
}

/** Compiles a template; `UsageError` for an unknown placeholder. */
export function compileTemplate(text: string): BodyTemplate {
  const literals: string[] = [];
  const names: string[] = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER_RE)) {
    const name = match[1] as string;
    if (!KNOWN.has(name)) throw new UsageError(`body template: unknown placeholder {{${name}}}`, { hint: 'known: {{seq}}, {{uuid}}, {{now}}, {{ts}}, {{nonce}}' });
    literals.push(text.slice(last, match.index));
    names.push(name);
    last = (match.index ?? 0) + match[0].length;
  }
  literals.push(text.slice(last));
  return {
    hasNonce: names.includes('nonce'),
    render(seq, nonce) {
      let out = literals[0] as string;
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        out += name === 'seq' ? String(seq) : name === 'nonce' ? nonce : name === 'uuid' ? randomUUID() : name === 'now' ? new Date().toISOString() : String(Date.now());
        out += literals[i + 1] as string;
      }
      return out;
    },
  };
}
