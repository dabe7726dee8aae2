import { UsageError } from './errors.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a duration such as `500ms`, `2s`, `1.5m`, `1h`, `1m30s` into milliseconds. A bare
 * number other than 0 is refused: `--watch 2` meant 2 s to one user and 2 ms to the code (it
 * polled 168,566 times in 10 minutes), so the unit is always written. `what` names the flag.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const input = text.trim();
  if (/^0+(\.0+)?$/.test(input)) return 0;
  if (/^\d+(\.\d+)?$/.test(input)) {
    throw new UsageError(`${what} ${input}: ${input} what? write ${input}s (or ${input}ms)`, { hint: 'durations take a unit: 500ms, 2s, 1m, 1h' });
  }
  const re = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let match: RegExpExecArray | null;
  while ((match = re.exec(input)) !== null) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    matched = re.lastIndex;
  }
  if (input === '' || matched !== input.length) {
    throw new UsageError(`${what}: '${text}' is not a duration`, { hint: 'use e.g. 500ms, 2s, 1m, 1h' });
  }
  return total;
}

/** Formats milliseconds for people: `850 ms`, `1.8 s`, `2 m 5 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds === 0 ? `${minutes} m` : `${minutes} m ${seconds} s`;
}

/** Parses a byte size such as `1MiB`, `512KiB`, `64k`, `1000` into bytes. */
export function parseByteSize(text: string, what = 'size'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?\s*$/i.exec(text);
  if (!match) throw new UsageError(`${what}: '${text}' is not a size`, { hint: 'use e.g. 1MiB, 512KiB, 65536' });
  const unit = (match[2] ?? 'b').toLowerCase();
  const factor = unit.startsWith('g') ? 1024 ** 3 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('k') ? 1024 : 1;
  return Math.floor(Number(match[1]) * factor);
}

/** `parseDuration` that also refuses zero (a timeout or interval of 0 is always a mistake). */
export function parsePositiveDuration(text: string, what: string): number {
  const ms = parseDuration(text, what);
  if (ms <= 0) throw new UsageError(`${what} must be longer than 0`);
  return ms;
}

/** `parseByteSize` that also refuses zero. */
export function parsePositiveByteSize(text: string, what: string): number {
  const bytes = parseByteSize(text, what);
  if (bytes <= 0) throw new UsageError(`${what} must be more than 0 bytes`);
  return bytes;
}
