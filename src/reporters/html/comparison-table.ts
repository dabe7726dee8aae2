/**
 * `stats compare --html`: the figures the two runs share side by side with the change (the
 * same figures and order as the terminal table), coloured by which way is better, and the p99
 * regression gate when one was asked for.
 */
import { formatDuration } from '../../core/duration.js';
import type { ComparedFigure, Comparison } from '../../stats/compare.js';
import { roundFigure } from './chart-spec.js';
import { escapeHtml } from './escape-html.js';
import { renderTable, type Cell } from './html-table.js';

/** The comparison section. */
export function renderComparisonTable(comparison: Comparison): string {
  const rows = comparison.figures.map((f): Cell[] => {
    const tone = toneOf(f);
    return [escapeHtml(f.figure), valueText(f.base, f.unit), valueText(f.next, f.unit), { html: changeText(f), className: tone }, { html: pctText(f), className: tone }];
  });
  const gate = comparison.regression;
  const verdict = gate === undefined ? '' : `<p class="badge ${gate.passed ? 'good' : 'bad'}">regression gate (${gate.limit.kind === 'percent' ? `${gate.limit.percent} %` : formatDuration(gate.limit.ms)} on p99): ${gate.passed ? 'pass' : `fail: ${escapeHtml(gate.reason ?? 'p99 regressed')}`}</p>`;
  const scenario = comparison.isSameScenario ? '' : '<p class="note">the runs are of different scenarios (or scenario versions)</p>';
  return `<section id="comparison">\n<h2>Side by side</h2>\n${scenario}${verdict}\n${renderTable(['figure', 'base', 'new', 'change', 'change %'], rows, { className: 'facts comparison' })}\n</section>`;
}

function valueText(value: number | null, unit: ComparedFigure['unit']): string {
  if (value === null) return 'n/a';
  if (unit === 'ratio') return `${roundFigure(value * 100)} %`;
  return unit === 'ms' ? `${roundFigure(value)} ms` : String(roundFigure(value));
}

function changeText(f: ComparedFigure): string {
  if (f.change === null) return '';
  return `${f.change > 0 ? '+' : ''}${valueText(f.change, f.unit)}`;
}

function pctText(f: ComparedFigure): string {
  if (f.changePct === null) return '';
  return Number.isFinite(f.changePct) ? `${f.changePct > 0 ? '+' : ''}${f.changePct.toFixed(1)} %` : 'new';
}

// Red when the change is worse, green when better, by the figure's better direction.
function toneOf(f: ComparedFigure): string {
  if (f.change === null || f.change === 0 || f.better === 'neither') return '';
  const isWorse = f.better === 'lower' ? f.change > 0 : f.change < 0;
  return isWorse ? 'fail' : 'pass';
}
