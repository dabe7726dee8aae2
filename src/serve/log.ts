/**
 * Structured logs for the reference backend: one JSON object per line (issue 3
 * "Observability"; CONTRACTS §1's `logger.info(..., extra={user_id, role, ip})`). Every line
 * goes through `redactText`, and callers never pass tokens or query strings in the first place.
 */
import { redactText } from '../core/redact.js';

/** A log sink: receives finished, redacted lines without the trailing newline. */
export type LogWriter = (line: string) => void;

/** Logs one record; `fields` must be JSON-serialisable. */
export type ServeLogger = (level: 'info' | 'warn' | 'error', message: string, fields?: Readonly<Record<string, unknown>>) => void;

/**
 * A logger writing JSON lines to `write`, or a no-op when `write` is undefined (`--quiet`).
 * `base` fields go on every line (a `--workers` worker's `worker`).
 */
export function createLogger(write: LogWriter | undefined, base: Readonly<Record<string, unknown>> = {}): ServeLogger {
  if (write === undefined) return () => undefined;
  return (level, message, fields = {}) => {
    write(redactText(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...base, ...fields })));
  };
}
