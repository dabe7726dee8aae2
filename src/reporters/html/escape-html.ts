/**
 * HTML escaping for the report page. Every string that comes from a result (scenario names,
 * targets, error classes, diagnoses, producer errors: the server's or the user's words) goes
 * through `textHtml`: redacted first (a token in a diagnosis must not reach a file that gets
 * attached to tickets), then escaped, so it can only ever be text.
 */
import { redactText } from '../../core/redact.js';

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes the five characters that can end text or an attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] as string);
}

/** A result's string as page text: redacted, then escaped. */
export function textHtml(text: string): string {
  return escapeHtml(redactText(text));
}

/**
 * Script text for inlining in `<script>`: the HTML parser ends a script at the first `</script`
 * whatever the JavaScript around it means, and `<!--` can switch it into a comment state.
 * Rewriting either inside code could change what it means, so a script holding one is refused
 * (uPlot and our drawing code hold neither; a test checks).
 */
export function scriptText(source: string): string {
  if (/<\/script|<!--/i.test(source)) throw new Error('a script to inline holds </script or <!--');
  return source;
}
