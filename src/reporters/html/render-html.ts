/**
 * The HTML report (`bench --html`, `stats report --html`, `stats compare --html`): one
 * self-contained page with the run's charts, each with its table, the thresholds, the figures
 * and what was run. Pure: a result (and the chart library's text) in, a string out; the CLI
 * writes the file.
 */
import type { Comparison } from '../../stats/compare.js';
import type { ResultFile } from '../../stats/result-file.js';
import type { ChartAssets } from './chart-assets.js';
import { renderChartSection } from './chart-section.js';
import type { ChartSpec, ReportRun } from './chart-spec.js';
import { renderComparisonTable } from './comparison-table.js';
import { deliveriesChart } from './deliveries-chart.js';
import { errorsChart } from './errors-chart.js';
import { escapeHtml, textHtml } from './escape-html.js';
import { renderKeyFigures } from './key-figures.js';
import { latencyDistributionChart } from './latency-distribution-chart.js';
import { latencyOverTimeChart } from './latency-over-time-chart.js';
import { openStreamsChart } from './open-streams-chart.js';
import { renderPage } from './page.js';
import { renderPublishEvents } from './publish-events-table.js';
import { publishOutcomesChart } from './publish-outcomes-chart.js';
import { renderFindings, renderRunMetadata } from './run-metadata.js';
import { renderThresholds } from './thresholds-table.js';

/** The charts the runs call for: latency for every kind, streams and errors for bench, outcomes for publish. */
export function chartsFor(runs: readonly ReportRun[]): ChartSpec[] {
  const hasBench = runs.some((run) => run.result.kind === 'bench');
  const hasPublish = runs.some((run) => run.result.kind === 'publish');
  return [
    latencyOverTimeChart(runs),
    latencyDistributionChart(runs),
    ...(hasBench ? [openStreamsChart(runs), deliveriesChart(runs), errorsChart(runs)] : []),
    ...(hasPublish ? [publishOutcomesChart(runs)] : []),
  ];
}

/** One run's report page (bench or publish; a merged shard result is a bench result like any). */
export function renderHtmlReport(result: ResultFile, assets: ChartAssets): string {
  const runs: ReportRun[] = [{ label: '', result }];
  const title = result.kind === 'bench' ? `ssekit bench · ${result.scenario.name}` : `ssekit publish · ${result.producer}`;
  const body = [
    `<header><h1>${textHtml(title)}</h1>${verdictHtml(result)}</header>`,
    renderRunMetadata(runs),
    renderFindings(runs),
    renderThresholds(runs),
    ...chartsFor(runs).map(renderChartSection),
    ...(result.kind === 'publish' ? [renderPublishEvents(result)] : []),
    renderKeyFigures(result),
  ];
  return renderPage({ title, body, generator: generatorOf(result) }, assets);
}

/** Two runs overlaid (`stats compare --html`): the comparison table, then every chart with both runs. */
export function renderHtmlComparison(base: { readonly file: string; readonly result: ResultFile }, next: { readonly file: string; readonly result: ResultFile }, comparison: Comparison, assets: ChartAssets): string {
  const runs: ReportRun[] = [
    { label: 'base', result: base.result },
    { label: 'new', result: next.result },
  ];
  const title = `ssekit compare · ${base.file} → ${next.file}`;
  const body = [
    `<header><h1>${textHtml(title)}</h1><p>base ${verdictHtml(base.result)} new ${verdictHtml(next.result)}</p></header>`,
    renderComparisonTable(comparison),
    renderRunMetadata(runs),
    renderFindings(runs),
    renderThresholds(runs),
    ...chartsFor(runs).map(renderChartSection),
    ...runs.flatMap((run) => (run.result.kind === 'publish' ? [renderPublishEvents(run.result, run.label)] : [])),
  ];
  return renderPage({ title, body, generator: generatorOf(next.result) }, assets);
}

function verdictHtml(result: ResultFile): string {
  const words = { passed: 'PASSED', failed: 'FAILED', interrupted: 'INTERRUPTED (partial results)' } as const;
  return `<span class="verdict ${result.endReason}">${escapeHtml(words[result.endReason])}</span>`;
}

function generatorOf(result: ResultFile): string {
  return `${result.tool.name} ${result.tool.version}`;
}
