/**
 * `ssekit stats` output: the server-figures table (once or watched), its JSON form, and the
 * result-file views (report, compare, merge summary). Returns strings; the CLI writes them.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { formatDuration } from '../core/duration.js';
import { redactText } from '../core/redact.js';
import { decodeLatencyHistogram, type LatencySummary } from '../metrics/histogram.js';
import type { BenchResult, HistogramBlock } from '../metrics/bench-result.js';
import type { Comparison, ComparedFigure } from '../stats/results.js';
import type { FigureRow, StatsSample } from '../stats/run-stats.js';

/** Formatting options. */
export interface StatsTableOptions {
  readonly useColor: boolean;
}

// Strips colour codes to measure what the user sees.
const ANSI_RE = /\u001b\[[0-9;]*m/g;
const visible = (text: string): number => [...text.replace(ANSI_RE, '')].length;

/** Lays out rows in columns (first row is the header); `right` lists right-aligned columns. */
export function layoutTable(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows
    .map((row) =>
      row
        .map((cell, i) => {
          const pad = ' '.repeat((widths[i] ?? 0) - visible(cell));
          if (i === row.length - 1 && !right.has(i)) return cell;
          return right.has(i) ? `${pad}${cell}` : `${cell}${pad}`;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A figure for people: integers as they are, others to 6 significant digits; `—` when absent. */
export function formatNumber(value: number | null | undefined): string {
  if (value === undefined || value === null) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

function signed(value: number, chalk: ChalkInstance): string {
  if (value === 0) return chalk.gray('0');
  return value > 0 ? chalk.yellow(`+${formatNumber(value)}`) : chalk.cyan(formatNumber(value));
}

function valueCell(row: FigureRow): string {
  if (row.histogram !== undefined) {
    const h = row.histogram;
    const q = (v: number): string => (Number.isNaN(v) ? '—' : formatNumber(v));
    return `${formatNumber(h.count)} obs · sum ${q(h.sum)} · p50 ${q(h.p50)} · p99 ${q(h.p99)}`;
  }
  return formatNumber(row.value);
}

/** The table of one sample; with `isWatch`, CHANGE and RATE/S columns. */
export function renderStatsSample(sample: StatsSample, display: string, options: StatsTableOptions & { readonly isWatch: boolean }): string {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const out: string[] = [];
  const head = `${redactText(display)} · ${sample.stats.format} · ${sample.at}`;
  out.push(chalk.bold(options.isWatch ? `${head} · sample ${sample.index}${sample.intervalSeconds === undefined ? '' : ` (+${sample.intervalSeconds.toFixed(1)} s)`}` : head));
  const header = options.isWatch ? ['FIGURE', 'KIND', 'VALUE', 'CHANGE', 'RATE/S'] : ['FIGURE', 'KIND', 'VALUE'];
  const rows: string[][] = [header.map((h) => chalk.gray(h))];
  for (const row of sample.rows) {
    const value = row.value === undefined ? chalk.red('absent') : valueCell(row);
    const cells = [redactText(row.label), chalk.gray(row.kind), value];
    if (options.isWatch) {
      cells.push(row.change === undefined ? '' : signed(row.change, chalk));
      cells.push(row.isReset ? chalk.yellow('reset') : row.ratePerSecond === undefined ? '' : formatNumber(row.ratePerSecond));
    }
    rows.push(cells);
  }
  if (sample.rows.length === 0) out.push(chalk.gray('(no figures)'));
  else out.push(layoutTable(rows));
  const lists = sample.stats.figures.filter((f) => f.name.endsWith('.length')).length;
  if (sample.duplicates.length > 0) {
    out.push('', chalk.red(`Duplicate streams: ${sample.duplicates.length} user${sample.duplicates.length === 1 ? '' : 's'} holding more than one (seed 001's duplicate-connection bug)`));
    out.push(layoutTable([[chalk.gray('LIST'), chalk.gray('USER'), chalk.gray('STREAMS')], ...sample.duplicates.map((d) => [d.list, redactText(d.entry), String(d.streams)])], new Set([2])));
  } else if (sample.stats.format === 'json' && lists > 0) {
    out.push('', chalk.green('Duplicate streams: none (no user holds more than one)'));
  }
  if (sample.expectations.length > 0) {
    out.push('');
    for (const e of sample.expectations) {
      out.push(e.passed ? `${chalk.green('PASS')}  ${e.expression}  ${chalk.gray(`(${formatNumber(e.value)})`)}` : `${chalk.red('FAIL')}  ${e.expression}  ${chalk.gray(`(${e.reason ?? 'failed'})`)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** One sample as JSON-ready data (`--json`; one line per sample when watching). */
export function statsSampleData(sample: StatsSample, display: string, options: { readonly hasSelectors: boolean }): Record<string, unknown> {
  return {
    schemaVersion: 1,
    kind: 'stats',
    url: redactText(display),
    format: sample.stats.format,
    at: sample.at,
    sample: sample.index,
    intervalSeconds: sample.intervalSeconds ?? null,
    rows: sample.rows.map(({ key: _key, ...row }) => row),
    ...(options.hasSelectors
      ? {}
      : {
          figures: sample.stats.figures,
          histograms: sample.stats.histograms.map((h) => ({ ...h, buckets: h.buckets.map((b) => ({ le: Number.isFinite(b.le) ? b.le : '+Inf', count: b.count })) })),
        }),
    duplicates: sample.duplicates,
    expectations: sample.expectations,
  };
}

const ms = (value: number | null | undefined): string => (value === null || value === undefined || Number.isNaN(value) ? '—' : formatDuration(value));

function bytes(value: number): string {
  if (value < 1024) return `${value} B`;
  if (value < 1024 ** 2) return `${(value / 1024).toFixed(1)} KiB`;
  if (value < 1024 ** 3) return `${(value / 1024 ** 2).toFixed(1)} MiB`;
  return `${(value / 1024 ** 3).toFixed(2)} GiB`;
}

function mapLine(map: Readonly<Record<string, number>>): string {
  const entries = Object.entries(map).filter(([, v]) => v > 0);
  return entries.length === 0 ? '' : entries.map(([k, v]) => `${k} ${v}`).join(', ');
}

const PERCENTILE_ROWS: readonly [string, number][] = [
  ['p0', 0],
  ['p25', 25],
  ['p50', 50],
  ['p75', 75],
  ['p90', 90],
  ['p95', 95],
  ['p99', 99],
  ['p99.9', 99.9],
  ['max', 100],
];

/** A small ASCII latency distribution: the value at each percentile as a bar scaled to the max. */
export function renderDistribution(block: HistogramBlock, width = 40): string {
  if (block.summary.count === 0) return '  (no samples)';
  const histogram = decodeLatencyHistogram(block.hdr);
  const values = PERCENTILE_ROWS.map(([label, p]) => [label, p === 100 ? histogram.maxMs : histogram.percentileMs(p)] as const);
  const max = Math.max(...values.map(([, v]) => v), Number.MIN_VALUE);
  return layoutTable(
    values.map(([label, v]) => [`  ${label}`, ms(v), `${'█'.repeat(Math.max(1, Math.round((v / max) * width)))}`]),
    new Set([1]),
  );
}

function latencyRow(name: string, s: LatencySummary): string[] {
  return [name, String(s.count), ms(s.minMs), ms(s.p50Ms), ms(s.p90Ms), ms(s.p95Ms), ms(s.p99Ms), ms(s.p999Ms), ms(s.maxMs), ms(s.meanMs)];
}

/** The bench report again, from a result file. */
export function renderResultReport(result: BenchResult, file: string, options: StatsTableOptions): string {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const verdict = result.endReason === 'passed' ? chalk.green('PASSED') : result.endReason === 'failed' ? chalk.red('FAILED') : chalk.yellow('INTERRUPTED');
  const shard = result.shard === null ? '' : ` · shard ${result.shard.index}/${result.shard.count}`;
  const e = result.events;
  const lossPct = e.expectedDeliveries > 0 ? ` (${((e.lost / e.expectedDeliveries) * 100).toFixed(2)} %)` : '';
  const out: string[] = [
    chalk.bold(`${file}: bench ${result.scenario.name} · run ${result.runId}${shard} · ${verdict}`),
    chalk.gray(`target ${redactText(result.target)} · ${result.startedAt} → ${result.endedAt} · ${formatDuration(result.durationMs)} · ssekit ${result.tool.version}`),
    '',
    layoutTable(
      [
        ['Clients', `planned ${result.clients.planned} · peak open ${result.clients.peakOpen} · opens ${result.clients.opens}`],
        ['Events', `published ${e.published} · publish errors ${e.publishErrors} · expected deliveries ${e.expectedDeliveries} · delivered ${e.delivered}`],
        ['', `lost ${e.lost}${lossPct} · duplicated ${e.duplicated} · out of order ${e.outOfOrder} · recovered ${e.recovered} · missed during reconnect ${e.missedDuringReconnect}`],
        ['Received', `${e.received} events · ${bytes(e.bytesReceived)}`],
        ['Reconnects', `${result.reconnects.total}${mapLine(result.reconnects.byReason) === '' ? '' : `: ${mapLine(result.reconnects.byReason)}`}`],
        ['Statuses', mapLine(result.statuses) || '—'],
        ['Errors', `${result.errors.total}${mapLine(result.errors.byClass) === '' ? '' : `: ${mapLine(result.errors.byClass)}`}`],
      ].map(([a, b]) => [chalk.bold(a as string), b as string]),
    ),
    '',
    layoutTable(
      [
        ['', 'COUNT', 'MIN', 'P50', 'P90', 'P95', 'P99', 'P99.9', 'MAX', 'MEAN'].map((h) => chalk.gray(h)),
        latencyRow('delivery latency', result.latency.summary),
        latencyRow('connect (headers)', result.connect.headers.summary),
        latencyRow('connect (first event)', result.connect.firstEvent.summary),
      ],
      new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]),
    ),
    '',
    chalk.bold('Delivery latency distribution'),
    renderDistribution(result.latency),
    '',
  ];
  const leak = result.leak;
  const leakVerdict = leak.verdict === 'ok' ? chalk.green('OK') : leak.verdict === 'leak' ? chalk.red('LEAK') : chalk.yellow('UNKNOWN');
  out.push(`${chalk.bold('Leak')}  ${leakVerdict} · leaked ${formatNumber(leak.leaked)} · baseline ${formatNumber(leak.baseline)} · final ${formatNumber(leak.final)} · max drift ${formatNumber(leak.maxDrift)} · grace ${formatDuration(leak.graceMs)} · ${leak.samples.length} sample${leak.samples.length === 1 ? '' : 's'}${leak.source === null ? '' : ` · ${redactText(leak.source)}${leak.metric === null ? '' : ` (${leak.metric})`}`}`);
  const s = result.self;
  out.push(chalk.gray(`Bench process  cpu user ${formatDuration(s.cpuUserMs)} · system ${formatDuration(s.cpuSystemMs)} · max rss ${bytes(s.maxRssBytes)} · heap ${bytes(s.heapUsedBytes)} · sockets ${formatNumber(s.socketsAtStart)} → ${formatNumber(s.socketsAtEnd)}`));
  if (result.thresholds.length > 0) {
    out.push('', chalk.bold('Thresholds'));
    for (const t of result.thresholds) {
      const value = t.value === null ? 'no value' : t.metric.includes('latency') || t.metric.startsWith('connect') ? ms(t.value) : formatNumber(t.value);
      out.push(`  ${t.passed ? chalk.green('PASS') : chalk.red('FAIL')}  ${t.expression}  ${chalk.gray(`(${t.metric} = ${value}${t.reason === undefined ? '' : `; ${t.reason}`})`)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

function figureValue(value: number | null, unit: ComparedFigure['unit']): string {
  if (value === null) return '—';
  if (unit === 'ms') return ms(value);
  if (unit === 'ratio') return `${(value * 100).toFixed(3)} %`;
  return formatNumber(value);
}

/** `compare`: the two runs side by side with the change. */
export function renderComparison(comparison: Comparison, files: { readonly base: string; readonly next: string }, options: StatsTableOptions): string {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const out: string[] = [
    chalk.bold(`base ${files.base}: ${comparison.base.scenario} · run ${comparison.base.runId} · ${comparison.base.endReason} · leak ${comparison.base.leak}`),
    chalk.bold(`new  ${files.next}: ${comparison.next.scenario} · run ${comparison.next.runId} · ${comparison.next.endReason} · leak ${comparison.next.leak}`),
  ];
  if (!comparison.isSameScenario) out.push(chalk.yellow('note: the runs are of different scenarios (or scenario versions)'));
  out.push('');
  const rows: string[][] = [['FIGURE', 'BASE', 'NEW', 'CHANGE', '%'].map((h) => chalk.gray(h))];
  for (const f of comparison.figures) {
    let change = '';
    let pct = '';
    if (f.change !== null) {
      const isWorse = f.better === 'lower' ? f.change > 0 : f.better === 'higher' ? f.change < 0 : false;
      const isBetter = f.better === 'lower' ? f.change < 0 : f.better === 'higher' ? f.change > 0 : false;
      const paint = isWorse ? chalk.red : isBetter ? chalk.green : (t: string) => t;
      const sign = f.change > 0 ? '+' : f.change < 0 ? '-' : '';
      change = paint(f.change === 0 ? '0' : `${sign}${figureValue(Math.abs(f.change), f.unit)}`);
      pct = f.changePct === null ? '' : paint(!Number.isFinite(f.changePct) ? 'new' : `${f.changePct > 0 ? '+' : ''}${f.changePct.toFixed(1)} %`);
    }
    rows.push([f.figure, figureValue(f.base, f.unit), figureValue(f.next, f.unit), change, pct]);
  }
  out.push(layoutTable(rows, new Set([1, 2, 3, 4])));
  const r = comparison.regression;
  if (r !== undefined) {
    const limit = r.limit.kind === 'percent' ? `${r.limit.percent} %` : formatDuration(r.limit.ms);
    out.push('', r.passed ? chalk.green(`PASS: p99 ${ms(r.baseP99Ms)} → ${ms(r.nextP99Ms)}, within the ${limit} allowed regression`) : chalk.red(`FAIL: ${r.reason ?? 'p99 regressed'} (p99 ${ms(r.baseP99Ms)} → ${ms(r.nextP99Ms)})`));
  }
  return `${out.join('\n')}\n`;
}
