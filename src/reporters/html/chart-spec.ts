/**
 * What a chart is, before it is HTML: a table of figures (one x per row, one column per line
 * or bar) and how to draw it. The table is the single source: the page prints it for people
 * who cannot see the chart, and the browser draws the chart by reading it back, so the two can
 * never disagree (and the page carries the figures once, which keeps a 10-minute report small).
 */
import type { ResultFile } from '../../stats/result-file.js';

/** One run drawn in a report: a result and its label (`base`, `new`; empty for a single run). */
export interface ReportRun {
  readonly label: string;
  readonly result: ResultFile;
}

/**
 * How the x column reads: seconds since the run started, a percentile (drawn at 1/(1−p) on a
 * log axis, as HdrHistogram plots it), a category name (bars), or an event's sequence number.
 */
export type XKind = 'time' | 'percentile' | 'category' | 'sequence';

/** One drawn column of a chart's table. */
export interface ChartColumn {
  /** The column heading and legend entry, unit included: `p99 (ms)`, `base p99 (ms)`. */
  readonly label: string;
  readonly axis: 'left' | 'right';
  readonly style: 'line' | 'points' | 'bars';
  readonly color: string;
  readonly isDashed?: boolean;
  /** Draw a line across missing values (a figure read less often than the buckets, such as the server's count). */
  readonly spansGaps?: boolean;
}

/** One row of a chart's table: its x and one value per column (null: none in that bucket). */
export interface ChartRow {
  readonly x: number | string;
  readonly values: readonly (number | null)[];
}

/** A verdict shown beside a chart (the leak check's, on the open-streams chart). */
export interface Badge {
  readonly text: string;
  readonly tone: 'good' | 'bad' | 'neutral';
}

/** A vertical line across a chart at an x value, with a label (the leak verdict, where the final count was read). */
export interface Marker {
  readonly x: number;
  readonly label: string;
  readonly tone: Badge['tone'];
}

/** A chart: its table, how to draw it, and what it cannot show. */
export interface ChartSpec {
  /** Stable DOM id (tests and links find a chart by it). */
  readonly id: string;
  readonly title: string;
  /** One sentence above the chart: what it shows and how it was measured. */
  readonly caption: string;
  readonly xKind: XKind;
  /** The x column's heading, unit included. */
  readonly xLabel: string;
  readonly yLabel: string;
  readonly y2Label?: string;
  readonly columns: readonly ChartColumn[];
  readonly rows: readonly ChartRow[];
  /** Why a run's figures are missing ("not in this result (schema v1)"); shown above the chart. */
  readonly notes: readonly string[];
  readonly badges?: readonly Badge[];
  readonly markers?: readonly Marker[];
}

/** A run's contribution to a chart: its columns and rows, before the runs are set side by side. */
export interface ChartPart {
  readonly columns: readonly ChartColumn[];
  readonly rows: readonly ChartRow[];
}

// One hue per run (blue for the only or base run, orange for the new one), shades per figure:
// an overlay reads as "which run" by colour and "which figure" by shade and dash.
const PALETTE = [
  ['#1f5fa8', '#6aa5dd', '#0b3460', '#8f8f8f'],
  ['#d0590b', '#f3a25e', '#7a3203', '#b07a55'],
] as const;

/** The colour of a run's figure: `shade` 0 is the run's main figure, 1 its lighter companion, 2 darker, 3 muted. */
export function colorOf(runIndex: number, shade: 0 | 1 | 2 | 3): string {
  return (PALETTE[runIndex % PALETTE.length] as (typeof PALETTE)[number])[shade];
}

/** A column heading with the run's label in front when there are several runs. */
export function labelFor(run: ReportRun, label: string): string {
  return run.label === '' ? label : `${run.label} ${label}`;
}

/** A note about one run's missing figures, named by run when there are several. */
export function noteFor(run: ReportRun, note: string): string {
  return run.label === '' ? note : `${run.label}: ${note}`;
}

/** A figure as the tables show it: at most 3 decimals (µs for ms figures), which keeps the page small. */
export function roundFigure(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** A number from a result file, or null: JSON has no NaN, so a figure without samples arrives as null. */
export function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? roundFigure(value) : null;
}
