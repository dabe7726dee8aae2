/**
 * What `ssekit check` returns: one verdict per check with its evidence, and the run around
 * them. camelCase with `schemaVersion` (STYLE "Naming"); `--json` prints it, the JUnit and
 * Markdown reporters render it.
 */
import type { EndReason } from '../core/end-reason.js';
import type { CheckKind } from './plan.js';

/** The result format's version. */
export const CHECK_RESULT_SCHEMA_VERSION = 1;

/** A check's verdict. */
export type CheckStatus = 'pass' | 'fail' | 'skip';

/** What a check kind found: its verdict and the evidence for it, in one line (plus details). */
export interface CheckOutcome {
  readonly status: CheckStatus;
  /** One line: what was measured against what the contract says (`longest gap 30.4 s ≤ 31 s over 95 s`). */
  readonly evidence: string;
  /** Further lines (schema errors, each case of an auth check). */
  readonly details?: readonly string[] | undefined;
  /** What was measured, for machines (`--json`): `maxMs`, `longestGapMs`, ... in ms or counts. */
  readonly figures?: Readonly<Record<string, number>> | undefined;
}

/** One check's result. */
export interface CheckResult extends CheckOutcome {
  readonly name: string;
  readonly kind: CheckKind;
  readonly cites: string;
  readonly durationMs: number;
}

/** A whole run. */
export interface CheckRunResult {
  readonly schemaVersion: typeof CHECK_RESULT_SCHEMA_VERSION;
  readonly kind: 'check';
  readonly tool: { readonly name: 'ssekit'; readonly version: string };
  readonly contract: { readonly name: string; readonly source: string };
  /** Base URL, redacted. */
  readonly target: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  /** `passed` when nothing failed (skips included), `failed`, or `interrupted` (Ctrl-C). */
  readonly endReason: EndReason;
  readonly counts: { readonly passed: number; readonly failed: number; readonly skipped: number };
  readonly checks: readonly CheckResult[];
}

/** Counts and the end reason of a list of results (pure). */
export function summarizeChecks(checks: readonly CheckResult[], isInterrupted: boolean): Pick<CheckRunResult, 'counts' | 'endReason'> {
  const count = (status: CheckStatus): number => checks.filter((c) => c.status === status).length;
  const counts = { passed: count('pass'), failed: count('fail'), skipped: count('skip') };
  const endReason: EndReason = isInterrupted ? 'interrupted' : counts.failed > 0 ? 'failed' : 'passed';
  return { counts, endReason };
}
