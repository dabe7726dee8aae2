/**
 * `ssekit stats <url>`: read a backend's own figures once, or every `intervalMs` (watch), and
 * turn each sample into rows: the value, the change since the previous sample, counters as
 * rates per second, histograms as count/sum/p50/p99 estimated from their buckets. Duplicate
 * streams and `--expect` gates ride along. No terminal knowledge: the CLI renders the rows.
 */
import type { Dispatcher } from 'undici';
import { SsekitError } from '../core/errors.js';
import { sleep } from '../core/sleep.js';
import type { TokenPlacement } from '../transport/auth.js';
import { findDuplicateStreams, type DuplicateStreams } from '../server-stats/duplicates.js';
import { estimateQuantile, familyNameOf, formatSeries, seriesKey, sumBuckets } from '../server-stats/prometheus.js';
import { fetchServerStats, labelsMatch, parsePromSelector, selectFigure } from '../server-stats/read-stats.js';
import type { FigureKind, ServerFigure, ServerHistogram, ServerStats, StatsFormat } from '../server-stats/types.js';
import { evaluateExpectations, type Expectation, type ExpectationResult } from './expectations.js';

/** What to read and how often. Built once by the CLI. */
export interface StatsOptions {
  readonly url: URL;
  /** The URL as shown (redacted). */
  readonly display: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly token?: TokenPlacement | undefined;
  readonly dispatcher: Dispatcher;
  /** Force a format instead of detecting it. */
  readonly format?: StatsFormat | undefined;
  /** Per request, ms. */
  readonly timeoutMs: number;
  /** `--metric`: show only these figures (empty: all). */
  readonly selectors: readonly string[];
  readonly expectations: readonly Expectation[];
  /** `--watch`: ms between samples; undefined reads once. */
  readonly intervalMs?: number | undefined;
  /** `--count`: samples to take in watch mode (undefined: until interrupted). */
  readonly count?: number | undefined;
}

/** Histogram figures of one row. */
export interface HistogramFigures {
  readonly count: number;
  readonly sum: number;
  /** Estimated from buckets, in the histogram's unit; NaN without observations. */
  readonly p50: number;
  readonly p99: number;
}

/** One line of the table. */
export interface FigureRow {
  /** Matches the same row across samples. */
  readonly key: string;
  /** What the user reads: the series (`name{role="admin"}`), path, key or selector. */
  readonly label: string;
  readonly kind: FigureKind;
  /** Undefined: the selected figure is absent. For histograms, the observation count. */
  readonly value: number | undefined;
  /** How the server wrote the value when it was not a number (`true`). */
  readonly text?: string;
  readonly histogram?: HistogramFigures;
  /** Since the previous sample (watch). */
  readonly change?: number;
  /** Counters (and histogram counts): change per second since the previous sample. */
  readonly ratePerSecond?: number;
  /** A counter went down: the server restarted or reset it. */
  readonly isReset?: boolean;
}

/** One reading. */
export interface StatsSample {
  /** 1-based. */
  readonly index: number;
  /** Wall-clock time of the reading (ISO). */
  readonly at: string;
  /** Seconds since the previous sample; undefined for the first. */
  readonly intervalSeconds: number | undefined;
  readonly stats: ServerStats;
  readonly rows: readonly FigureRow[];
  readonly duplicates: readonly DuplicateStreams[];
  readonly expectations: readonly ExpectationResult[];
}

/** How the run ended. */
export interface StatsRunResult {
  readonly samples: number;
  readonly last: StatsSample | undefined;
  readonly endReason: 'completed' | 'interrupted';
}

/** Progress callbacks. */
export interface StatsRunHooks {
  readonly signal: AbortSignal;
  readonly onSample?: (sample: StatsSample) => void;
  /** A reading failed after the first one succeeded (watch goes on). */
  readonly onSampleError?: (error: SsekitError, index: number) => void;
  /** Monotonic clock in ms (tests). */
  readonly now?: () => number;
}

/**
 * Reads once, or watches. The first reading's errors are thrown (nothing to show); later ones
 * go to `onSampleError` and the watch continues, unless the very last reading failed, which is
 * thrown so the exit code says so.
 */
export async function runStats(options: StatsOptions, hooks: StatsRunHooks): Promise<StatsRunResult> {
  const now = hooks.now ?? (() => performance.now());
  const startMs = now();
  let previous: { sample: StatsSample; atMs: number } | undefined;
  let taken = 0;
  const isWatch = options.intervalMs !== undefined;
  const total = isWatch ? options.count : 1;
  for (let index = 1; total === undefined || index <= total; index++) {
    if (index > 1) {
      // Fixed cadence: a slow reading shortens the next wait instead of drifting.
      const dueMs = startMs + (index - 1) * (options.intervalMs ?? 0);
      const isAwake = await sleep(Math.max(0, dueMs - now()), hooks.signal);
      if (!isAwake) break;
    }
    if (hooks.signal.aborted) break;
    let stats: ServerStats;
    try {
      stats = await fetchServerStats(options.url, { headers: options.headers, token: options.token, dispatcher: options.dispatcher, format: options.format, signal: hooks.signal, timeoutMs: options.timeoutMs });
    } catch (error) {
      if (hooks.signal.aborted && index > 1) break;
      const isLast = total !== undefined && index === total;
      if (previous === undefined || isLast || !(error instanceof SsekitError)) throw error;
      hooks.onSampleError?.(error, index);
      continue;
    }
    const atMs = now();
    const intervalSeconds = previous === undefined ? undefined : (atMs - previous.atMs) / 1000;
    const rows = buildRows(stats, options.selectors, previous?.sample.rows, intervalSeconds);
    const sample: StatsSample = {
      index,
      at: new Date().toISOString(),
      intervalSeconds,
      stats,
      rows,
      duplicates: findDuplicateStreams(stats),
      expectations: evaluateExpectations(stats, options.expectations),
    };
    taken += 1;
    previous = { sample, atMs };
    hooks.onSample?.(sample);
  }
  return { samples: taken, last: previous?.sample, endReason: hooks.signal.aborted ? 'interrupted' : 'completed' };
}

/**
 * The rows of one sample. Without selectors: every figure, except that a histogram's
 * `_bucket`/`_sum`/`_count` samples become one row per series. With selectors: one row per
 * selector (the value `--expect` would check), or per series when it names a histogram.
 * `previous` and `intervalSeconds` add the change and rates.
 */
export function buildRows(stats: ServerStats, selectors: readonly string[], previous?: readonly FigureRow[], intervalSeconds?: number): FigureRow[] {
  const rows = selectors.length === 0 ? allRows(stats) : selectors.flatMap((s) => selectedRows(stats, s));
  if (previous === undefined || intervalSeconds === undefined) return rows;
  const before = new Map(previous.map((r) => [r.key, r]));
  return rows.map((row) => withChange(row, before.get(row.key), intervalSeconds));
}

function withChange(row: FigureRow, before: FigureRow | undefined, seconds: number): FigureRow {
  if (before?.value === undefined || row.value === undefined) return row;
  const change = row.value - before.value;
  const isCounting = row.kind === 'counter' || row.histogram !== undefined;
  if (!isCounting) return { ...row, change };
  // Prometheus rate(): a counter that went down was reset; its whole value is the increase.
  if (change < 0) return { ...row, change, isReset: true, ratePerSecond: seconds > 0 ? row.value / seconds : Number.NaN };
  return { ...row, change, ratePerSecond: seconds > 0 ? change / seconds : Number.NaN };
}

function figureLabel(stats: ServerStats, figure: ServerFigure): string {
  return stats.format === 'prometheus' ? formatSeries(figure.name, figure.labels) : figure.name;
}

function histogramRow(h: ServerHistogram, label: string, key: string): FigureRow {
  return {
    key,
    label,
    kind: 'histogram',
    value: h.count,
    histogram: { count: h.count, sum: h.sum, p50: estimateQuantile(h.buckets, 0.5), p99: estimateQuantile(h.buckets, 0.99) },
  };
}

function allRows(stats: ServerStats): FigureRow[] {
  const rows: { row: FigureRow; family: string | undefined }[] = [];
  const histogramNames = new Set(stats.histograms.map((h) => h.name));
  const families = stats.families ?? [];
  const emitted = new Set<string>();
  for (const figure of stats.figures) {
    const family = families.length === 0 ? undefined : familyNameOf(figure.name, families);
    const base = figure.kind === 'histogram' ? /^(.*)_(bucket|sum|count|gcount|gsum)$/.exec(figure.name)?.[1] : undefined;
    if (base !== undefined && histogramNames.has(base)) {
      // One row per histogram series, where its first sample was.
      const { le: _le, ...labels } = figure.labels;
      const key = `${base}\u0000${seriesKey(labels)}`;
      if (emitted.has(key)) continue;
      emitted.add(key);
      const series = stats.histograms.find((h) => h.name === base && seriesKey(h.labels) === seriesKey(labels));
      if (series !== undefined) rows.push({ row: histogramRow(series, formatSeries(base, labels), key), family });
      continue;
    }
    const label = figureLabel(stats, figure);
    rows.push({ row: { key: label, label, kind: figure.kind, value: figure.value, ...(figure.text === undefined ? {} : { text: figure.text }) }, family });
  }
  if (families.length === 0) return rows.map((r) => r.row);
  // Prometheus: in family order, and a family declared by # TYPE without any series yet shows
  // as 0 (a labelled gauge with no series means nothing is open), as selectFigure counts it.
  const out: FigureRow[] = [];
  for (const family of families) {
    const own = rows.filter((r) => r.family === family.name).map((r) => r.row);
    if (own.length > 0) out.push(...own);
    else if (family.kind === 'histogram' || family.kind === 'summary') out.push({ key: family.name, label: family.name, kind: family.kind, value: 0, histogram: { count: 0, sum: 0, p50: Number.NaN, p99: Number.NaN } });
    else out.push({ key: family.name, label: family.name, kind: family.kind, value: 0 });
  }
  out.push(...rows.filter((r) => r.family === undefined || !families.some((f) => f.name === r.family)).map((r) => r.row));
  return out;
}

function selectedRows(stats: ServerStats, selector: string): FigureRow[] {
  if (stats.format === 'prometheus') {
    const parsed = parsePromSelector(selector);
    const isHistogramFamily = parsed.quantile === undefined && stats.histograms.some((h) => h.name === parsed.name);
    if (isHistogramFamily) {
      const series = stats.histograms.filter((h) => h.name === parsed.name && labelsMatch(h.labels, parsed.matchers));
      if (series.length === 1) return [histogramRow(series[0] as ServerHistogram, formatSeries(parsed.name, (series[0] as ServerHistogram).labels), `sel:${selector}`)];
      // Several series: their sum first (buckets added), then each one.
      const buckets = sumBuckets(series);
      const count = series.reduce((n, h) => n + h.count, 0);
      const sum = series.reduce((n, h) => n + h.sum, 0);
      const total: FigureRow = { key: `sel:${selector}`, label: selector, kind: 'histogram', value: count, histogram: { count, sum, p50: estimateQuantile(buckets, 0.5), p99: estimateQuantile(buckets, 0.99) } };
      return [total, ...series.map((h) => histogramRow(h, formatSeries(h.name, h.labels), `sel:${selector}\u0000${seriesKey(h.labels)}`))];
    }
    const kind: FigureKind = parsed.quantile !== undefined ? 'gauge' : (stats.figures.find((f) => f.name === parsed.name)?.kind ?? stats.families?.find((f) => f.name === parsed.name)?.kind ?? 'untyped');
    return [{ key: `sel:${selector}`, label: selector, kind, value: selectFigure(stats, selector) }];
  }
  const exact = stats.figures.find((f) => f.name === selector);
  return [{ key: `sel:${selector}`, label: selector, kind: exact?.kind ?? 'untyped', value: selectFigure(stats, selector) }];
}
