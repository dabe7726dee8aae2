/**
 * The thresholds with pass or fail: a bench run's, each with its value as the expression
 * reads it (the same words as the text report); a publish run's gate and completeness, which
 * decide its verdict the same way.
 */
import { formatDuration } from '../../core/duration.js';
import type { PublishResult } from '../../metrics/publish-result.js';
import { formatThresholdValue } from '../bench-text.js';
import type { ReportRun } from './chart-spec.js';
import { escapeHtml, textHtml } from './escape-html.js';
import { renderTable, type Cell } from './html-table.js';

interface Verdict {
  readonly expression: string;
  readonly value: string;
  readonly passed: boolean;
  readonly reason: string;
}

/** The thresholds section: one table per run. */
export function renderThresholds(runs: readonly ReportRun[]): string {
  const tables = runs.map((run) => {
    const verdicts = run.result.kind === 'bench' ? run.result.thresholds.map((t): Verdict => ({ expression: t.expression, value: t.value === null ? 'n/a' : formatThresholdValue(t), passed: t.passed, reason: t.reason ?? '' })) : publishVerdicts(run.result);
    const caption = run.label === '' ? undefined : escapeHtml(run.label);
    if (verdicts.length === 0) return `<p class="note">${caption === undefined ? '' : `${caption}: `}no thresholds were judged</p>`;
    const rows = verdicts.map((v): Cell[] => [textHtml(v.expression), textHtml(v.value), { html: v.passed ? '✓ pass' : '✗ fail', className: v.passed ? 'pass' : 'fail' }, textHtml(v.reason)]);
    return renderTable(['threshold', 'value', 'verdict', 'why'], rows, { className: 'facts thresholds', ...(caption === undefined ? {} : { caption }) });
  });
  return `<section id="thresholds">\n<h2>Thresholds</h2>\n${tables.join('\n')}\n</section>`;
}

/** A publish run's verdict as thresholds: the gate on the target, nothing lost, no producer error. */
function publishVerdicts(r: PublishResult): Verdict[] {
  const gate = r.gateValueMs;
  return [
    { expression: `${r.gate}<=${formatDuration(r.targetMs).replace(' ', '')}`, value: gate === null ? 'n/a' : formatDuration(gate), passed: gate !== null && gate <= r.targetMs, reason: gate === null ? 'no deliveries' : '' },
    { expression: 'lost==0', value: String(r.lost), passed: r.lost === 0, reason: '' },
    { expression: 'producerErrors==0', value: String(r.producerErrors), passed: r.producerErrors === 0, reason: '' },
  ];
}
