/**
 * What the server-stats layer reads a backend's figures into, shared by the fetcher and its
 * three parsers (its own file, so that imports only point down).
 */

/** The formats a stats endpoint may speak, as parsers: Prometheus text, JSON, `name: value` status page. */
export const STATS_FORMATS = ['prometheus', 'json', 'status-page'] as const;
/** Which parser read the text. */
export type StatsFormat = (typeof STATS_FORMATS)[number];

/** The kind of a figure: Prometheus metric types; JSON leaves are `untyped`, array lengths `gauge`. */
export type FigureKind = 'gauge' | 'counter' | 'histogram' | 'summary' | 'untyped';

/**
 * One number the server reported. Prometheus: one sample line (`name` is the sample name, so a
 * histogram gives `x_bucket`, `x_sum`, `x_count` figures with kind `histogram`). JSON: one numeric
 * leaf or array length, named by its path. Status page: one key.
 */
export interface ServerFigure {
  readonly name: string;
  /** May be NaN or ±Infinity (Prometheus allows both). */
  readonly value: number;
  readonly kind: FigureKind;
  readonly labels: Readonly<Record<string, string>>;
  /** How the server wrote it, when that was not a number (a JSON `true`, counted as 1). */
  readonly text?: string;
}

/** One cumulative bucket: observations ≤ `le` (`le` may be +Infinity). */
export interface HistogramBucket {
  readonly le: number;
  readonly count: number;
}

/** One Prometheus histogram series (labels without `le`), for p50/p99 estimates. */
export interface ServerHistogram {
  /** The family name, without `_bucket`/`_sum`/`_count`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Sorted by `le`, cumulative counts. */
  readonly buckets: readonly HistogramBucket[];
  /** NaN when the series had no `_sum` line. */
  readonly sum: number;
  /** From `_count`, else the `+Inf` bucket. */
  readonly count: number;
}

/** A declared Prometheus metric family (from `# TYPE` / `# HELP`, or implied by its samples). */
export interface MetricFamily {
  readonly name: string;
  readonly kind: FigureKind;
  readonly help: string;
}

/** Everything read from one response. */
export interface ServerStats {
  readonly format: StatsFormat;
  readonly figures: readonly ServerFigure[];
  /** Histograms as structured data too, for p50/p99. Empty unless Prometheus. */
  readonly histograms: readonly ServerHistogram[];
  /** The parsed JSON (format `json`), for JSON paths and duplicate detection. */
  readonly json?: unknown;
  /**
   * Prometheus families, including declared ones that have no sample yet: a selector naming one
   * of these sums to 0 rather than "absent" (a labelled gauge with no series yet means none open).
   */
  readonly families?: readonly MetricFamily[];
  /** Why this may not be a stats endpoint at all (JSON with no number in it: an index page). */
  readonly warning?: string;
}
