/** Where a bucket of a result's series sits in time, and what a chart says when there is no series. */
import type { BenchResult } from '../../metrics/bench-result.js';
import type { TimeSeries } from '../../metrics/time-series.js';
import { roundFigure, type ChartColumn, type ChartPart } from './chart-spec.js';

/** Said by every chart that needs the time series, for a result written before it (schema v1). */
export const SCHEMA_V1_NOTE = 'not in this result (schema v1)';

/** The start of bucket `index`, in seconds since the run started. */
export function bucketSeconds(series: TimeSeries, index: number): number {
  return roundFigure((index * series.bucketMs) / 1000);
}

/** The end of the series (when the fleet stopped), ms since the run started. */
export function seriesEndMs(series: TimeSeries): number {
  return series.open.length * series.bucketMs;
}

/** A per-bucket count as a rate per second. */
export function perSecond(series: TimeSeries, count: number | undefined): number | null {
  return count === undefined ? null : roundFigure(count / (series.bucketMs / 1000));
}

/** A chart part with one row per bucket of a bench result's series (`valuesAt` one value per column), or the schema v1 note. */
export function perBucketPart(result: BenchResult, columns: readonly ChartColumn[], valuesAt: (series: TimeSeries, index: number) => (number | null)[]): ChartPart | string {
  const series = result.series;
  if (series === undefined) return SCHEMA_V1_NOTE;
  return { columns, rows: series.open.map((_, i) => ({ x: bucketSeconds(series, i), values: valuesAt(series, i) })) };
}
