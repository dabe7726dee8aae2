/**
 * `check`'s human output: one line per check as soon as it is known — `PASS heartbeat:
 * :keepalive: longest gap 30.4 s ≤ 31 s over 95 s` — with details indented under it, then a
 * summary line. Returns strings; the CLI writes them. Every line is redacted and escaped: the
 * evidence quotes what servers sent.
 */
import { Chalk } from 'chalk';
import { formatDuration } from '../core/duration.js';
import { escapeControl } from '../core/escape.js';
import { redactText } from '../core/redact.js';
import type { CheckResult, CheckRunResult, CheckStatus } from '../check/result.js';

/** Formatting for one run. */
export interface CheckTextReporter {
  /** The line (and indented details) of one check. */
  checkLine(result: CheckResult): string;
  /** The closing summary. */
  summary(result: CheckRunResult): string;
}

const LABELS: Readonly<Record<CheckStatus, string>> = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' };

/** Safe for a terminal and free of secrets, on one line. */
export function cleanLine(text: string): string {
  return escapeControl(redactText(text), false);
}

/** Creates the reporter. */
export function createCheckTextReporter(options: { readonly useColor: boolean; readonly showCites?: boolean }): CheckTextReporter {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const paint: Readonly<Record<CheckStatus, (text: string) => string>> = { pass: chalk.green, fail: chalk.red, skip: chalk.yellow };
  return {
    checkLine(result) {
      const head = `${paint[result.status](LABELS[result.status])} ${chalk.bold(result.name)}: ${cleanLine(result.evidence)}`;
      const details = (result.details ?? []).map((d) => `       ${chalk.gray(cleanLine(d))}`);
      const cites = options.showCites === true ? [`       ${chalk.gray(`cites ${cleanLine(result.cites)}`)}`] : [];
      return [head, ...details, ...cites].join('\n');
    },
    summary(result) {
      const { passed, failed, skipped } = result.counts;
      const counts = `${passed} passed, ${failed} failed, ${skipped} skipped`;
      const where = `${cleanLine(result.contract.name)} against ${cleanLine(result.target)} in ${formatDuration(result.durationMs)}`;
      if (result.endReason === 'interrupted') return `${chalk.yellow('INTERRUPTED')}: ${counts} before Ctrl-C (${where})`;
      return `${result.endReason === 'passed' ? chalk.green('PASSED') : chalk.red('FAILED')}: ${counts} (${where})`;
    },
  };
}
