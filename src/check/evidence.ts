/**
 * The words of evidence lines, shared by the check kinds: durations as a person reads them
 * next to the contract's figure (`30.4 s ≤ 31 s`), a refusal with what the server said
 * (escaped: server text never drives a terminal), and the outcome builders.
 */
import { errorBodySummary, escapeControl, quoteServerText } from '../core/escape.js';
import { describeStatus, headerValue } from '../transport/open-stream.js';
import type { Probe } from './probe.js';
import type { CheckOutcome } from './result.js';

/** `850 ms`, `1.02 s`, `30.4 s`, `2 m 5 s`, `1 h`: precise enough to compare with a tolerance. */
export function seconds(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 3_600_000) {
    const hours = Math.floor(ms / 3_600_000);
    const restMinutes = Math.round((ms % 3_600_000) / 60_000);
    return restMinutes === 0 ? `${hours} h` : `${hours} h ${restMinutes} m`;
  }
  const minutes = Math.floor(ms / 60_000);
  const rest = Math.round((ms % 60_000) / 1000);
  return rest === 0 ? `${minutes} m` : `${minutes} m ${rest} s`;
}

/** What a response that is not an open stream was: `403 Forbidden ("Not authenticated")`, `200 but Content-Type text/html`. */
export function describeResponse(probe: Probe): string {
  if (probe.isStream) return `${probe.status} text/event-stream`;
  if (probe.status === 200) return `200 but Content-Type ${quoted(headerValue(probe.headers['content-type']) ?? 'none')}`;
  const said = describeBody(probe.body);
  return `${describeStatus(probe.status)}${said === undefined ? '' : ` (${said})`}`;
}

/** What the server said: a JSON body's `code`/`detail`/`message`/`error` (as bench and listen quote it), else the start of its text; quoted and escaped. */
function describeBody(body: string): string | undefined {
  const text = errorBodySummary(body) ?? body.trim().replace(/\s+/g, ' ');
  return text === '' ? undefined : quoteServerText(text);
}

/** A server-sent string, JSON-quoted and with control characters escaped. */
export function quoted(text: string): string {
  return escapeControl(JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text), false);
}

/** A passing outcome. */
export function pass(evidence: string, details?: readonly string[]): CheckOutcome {
  return details === undefined || details.length === 0 ? { status: 'pass', evidence } : { status: 'pass', evidence, details };
}

/** A failing outcome. */
export function fail(evidence: string, details?: readonly string[]): CheckOutcome {
  return details === undefined || details.length === 0 ? { status: 'fail', evidence } : { status: 'fail', evidence, details };
}

/** A skipped outcome. */
export function skip(evidence: string): CheckOutcome {
  return { status: 'skip', evidence };
}

/** The outcome with its measured figures (rounded to 0.1 ms). */
export function withFigures(outcome: CheckOutcome, figures: Readonly<Record<string, number>>): CheckOutcome {
  const rounded = Object.fromEntries(Object.entries(figures).filter(([, v]) => Number.isFinite(v)).map(([k, v]) => [k, Math.round(v * 10) / 10]));
  return { ...outcome, figures: rounded };
}

/** Why a probe that had to open did not, as a failing outcome: `stream refused: 401 Unauthorized (…)`. */
export function notOpened(probe: Probe, what = 'the stream'): CheckOutcome {
  return fail(`${what} did not open: ${describeResponse(probe)}`);
}
