/**
 * A chart as HTML: its heading, caption, verdict badges and notes, an empty plot the page's
 * script draws into, and the chart's table in a `<details>` (the figures for people who cannot
 * see the chart, and the data the script draws from).
 */
import type { ChartSpec } from './chart-spec.js';
import { escapeHtml, textHtml } from './escape-html.js';
import { renderTable } from './html-table.js';

/** What the page's script needs beside the table to draw a chart (the `data-chart` attribute). */
export interface DrawConfig {
  readonly xKind: ChartSpec['xKind'];
  readonly xLabel: string;
  readonly yLabel: string;
  readonly y2Label?: string;
  readonly columns: ChartSpec['columns'];
  readonly markers: NonNullable<ChartSpec['markers']>;
}

/** The section of one chart. A chart with no figure to draw keeps its heading and says why. */
export function renderChartSection(chart: ChartSpec): string {
  const head = [
    `<h2>${escapeHtml(chart.title)}</h2>`,
    `<p class="caption">${escapeHtml(chart.caption)}</p>`,
    ...(chart.badges ?? []).map((badge) => `<p class="badge ${badge.tone}">${textHtml(badge.text)}</p>`),
    ...chart.notes.map((note) => `<p class="note">${textHtml(note)}</p>`),
  ];
  if (chart.columns.length === 0 || chart.rows.length === 0) return `<section id="${chart.id}" class="chart">\n${head.join('\n')}\n</section>`;
  const config: DrawConfig = { xKind: chart.xKind, xLabel: chart.xLabel, yLabel: chart.yLabel, ...(chart.y2Label === undefined ? {} : { y2Label: chart.y2Label }), columns: chart.columns, markers: chart.markers ?? [] };
  const table = renderTable(
    [chart.xLabel, ...chart.columns.map((c) => c.label)].map(escapeHtml),
    chart.rows.map((row) => [typeof row.x === 'string' ? textHtml(row.x) : String(row.x), ...row.values.map((v) => (v === null ? '' : String(v)))]),
    { className: 'figures' },
  );
  return [
    `<section id="${chart.id}" class="chart">`,
    ...head,
    `<figure data-chart="${escapeHtml(JSON.stringify(config))}">`,
    `<div class="plot" role="img" aria-label="${escapeHtml(`${chart.title}: chart of the table below`)}"></div>`,
    `<details><summary>${escapeHtml(chart.title)}: the figures as a table (${chart.rows.length} rows)</summary>`,
    table,
    '</details>',
    '</figure>',
    '</section>',
  ].join('\n');
}
