/** `check --summary-md`: a Markdown table for CI job pages (GitHub's `$GITHUB_STEP_SUMMARY`, appended to). */
import type { CheckRunResult, CheckStatus } from '../check/result.js';
import { cleanLine } from './check-text.js';

const MARKS: Readonly<Record<CheckStatus, string>> = { pass: '✅ pass', fail: '❌ fail', skip: '⏭️ skip' };

/** A table cell: one line, pipes escaped. */
function cell(text: string): string {
  return cleanLine(text).replace(/\|/g, '\\|');
}

/** The Markdown summary of a run. */
export function renderCheckMarkdown(result: CheckRunResult): string {
  const verdict = result.endReason === 'passed' ? '✅ passed' : result.endReason === 'interrupted' ? '⚠️ interrupted' : '❌ failed';
  const { passed, failed, skipped } = result.counts;
  return [
    `### ssekit check · ${cell(result.contract.name)}: ${verdict}`,
    '',
    `${passed} passed, ${failed} failed, ${skipped} skipped against \`${cell(result.target)}\``,
    '',
    '| check | | evidence |',
    '|---|---|---|',
    ...result.checks.map((c) => `| \`${cell(c.name)}\` | ${MARKS[c.status]} | ${cell(c.evidence)} |`),
    '',
  ].join('\n');
}
