/**
 * Fault switches for `ssekit serve` (issue 3 "Faults, to test the tester"): each one makes the
 * reference backend misbehave in a way `ssekit bench`/`listen` must detect. All are off by default.
 */
import { UsageError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';

/** The parsed `--fault` values. Absent fields mean the fault is off. */
export interface FaultSet {
  /** `leak`: closed streams stay registered (gauge and stats keep counting them): CONTRACTS §4's registry bug. */
  readonly isLeaking: boolean;
  /** `delay=<duration>`: every event is held this long before it is written. */
  readonly delayMs?: number;
  /** `drop=<fraction>`: this fraction (0..1] of deliveries is skipped, per connection, evenly spread. */
  readonly dropFraction?: number;
  /** `stall-after=<duration>`: after this long, a stream gets no more bytes but its socket stays open. */
  readonly stallAfterMs?: number;
  /** `close-every=<duration>`: each stream's socket is destroyed (no clean end) this long after it opened. */
  readonly closeEveryMs?: number;
}

/** One line per fault, for `--help` and the README. */
export const FAULT_HELP = [
  'leak                 closed streams are never unregistered (gauge and stats keep counting them)',
  'delay=<duration>     hold each event this long before writing it (e.g. delay=300ms)',
  'drop=<fraction>      skip this fraction of deliveries, evenly spread (drop=0.1; drop=1 drops all)',
  'stall-after=<dur>    after this long a stream gets no more bytes, but its socket stays open',
  'close-every=<dur>    destroy each stream abruptly this long after it opened (no clean end)',
] as const;

/** No faults. */
export const NO_FAULTS: FaultSet = { isLeaking: false };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Parses repeated `--fault` values; a repeated fault keeps the last value. Throws one UsageError naming every bad one. */
export function parseFaults(values: readonly string[]): FaultSet {
  let faults: Mutable<FaultSet> = { isLeaking: false };
  const problems: string[] = [];
  for (const raw of values) {
    try {
      faults = applyFault(faults, raw);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push(error.message);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '), { hint: 'faults: leak, delay=<duration>, drop=<fraction>, stall-after=<duration>, close-every=<duration>' });
  return faults;
}

/** One `--fault` value applied to the set so far; `UsageError` when it is wrong. */
function applyFault(current: Mutable<FaultSet>, raw: string): Mutable<FaultSet> {
  const text = raw.trim();
  const eq = text.indexOf('=');
  const name = eq === -1 ? text : text.slice(0, eq);
  const value = eq === -1 ? undefined : text.slice(eq + 1);
  const need = (): string => {
    if (value === undefined || value === '') throw new UsageError(`--fault ${name} needs a value (${name}=...)`, { hint: 'see ssekit serve --help for the faults' });
    return value;
  };
  switch (name) {
    case 'leak':
      if (value !== undefined) throw new UsageError('--fault leak takes no value');
      return { ...current, isLeaking: true };
    case 'delay':
      return { ...current, delayMs: positive(parseDuration(need(), '--fault delay'), 'delay') };
    case 'drop': {
      const fraction = Number(need());
      if (!Number.isFinite(fraction) || fraction <= 0 || fraction > 1) throw new UsageError(`--fault drop: '${value}' is not a fraction in (0, 1]`, { hint: 'e.g. drop=0.1 or drop=1' });
      return { ...current, dropFraction: fraction };
    }
    case 'stall-after':
      return { ...current, stallAfterMs: parseDuration(need(), '--fault stall-after') };
    case 'close-every':
      return { ...current, closeEveryMs: positive(parseDuration(need(), '--fault close-every'), 'close-every') };
    default:
      throw new UsageError(`unknown --fault '${raw}'`);
  }
}

/** A short description of the active faults for the start-up banner, or '' when none. */
export function describeFaults(faults: FaultSet): string {
  const parts: string[] = [];
  if (faults.isLeaking) parts.push('leak');
  if (faults.delayMs !== undefined) parts.push(`delay=${faults.delayMs}ms`);
  if (faults.dropFraction !== undefined) parts.push(`drop=${faults.dropFraction}`);
  if (faults.stallAfterMs !== undefined) parts.push(`stall-after=${faults.stallAfterMs}ms`);
  if (faults.closeEveryMs !== undefined) parts.push(`close-every=${faults.closeEveryMs}ms`);
  return parts.join(', ');
}

function positive(ms: number, name: string): number {
  if (ms <= 0) throw new UsageError(`--fault ${name} must be greater than 0`);
  return ms;
}
