/**
 * Delivery latency over time. Bench: p50 and p99 per bucket of the result's series, beside
 * ssekit's own worst event-loop lag (latency that climbs with the lag is ssekit's, not the
 * server's). Publish: each event's latency at its due time, and the producer call's duration.
 */
import { formatDuration } from '../../core/duration.js';
import type { BenchResult } from '../../metrics/bench-result.js';
import type { PublishResult } from '../../metrics/publish-result.js';
import { chartFromRuns } from './align-parts.js';
import { colorOf, finiteOrNull, labelFor, roundFigure, type ChartColumn, type ChartPart, type ChartSpec, type ReportRun } from './chart-spec.js';
import { perBucketPart } from './series-time.js';

/** The latency-over-time chart of one run or an overlay of two. */
export function latencyOverTimeChart(runs: readonly ReportRun[]): ChartSpec {
  const table = chartFromRuns(runs, (run, index) => (run.result.kind === 'bench' ? benchPart(run, run.result, index) : publishPart(run, run.result, index)));
  const widths = runs.flatMap((run) => (run.result.kind === 'bench' && run.result.series !== undefined ? [formatDuration(run.result.series.bucketMs)] : []));
  const buckets = widths.length === 0 ? '' : ` Bench percentiles are per ${[...new Set(widths)].join(' / ')} bucket (from each event's scheduled send time; a coarser bucket keeps the worst p99 of the seconds it joins).`;
  return {
    id: 'latency-over-time',
    title: 'Delivery latency over time',
    caption: `How long events took to arrive, as the run went on.${buckets}`,
    xKind: 'time',
    xLabel: 'time (s)',
    yLabel: 'latency (ms)',
    ...table,
  };
}

function benchPart(run: ReportRun, result: BenchResult, index: number): ChartPart | string {
  const columns: ChartColumn[] = [
    { label: labelFor(run, 'p50 (ms)'), axis: 'left', style: 'line', color: colorOf(index, 1) },
    { label: labelFor(run, 'p99 (ms)'), axis: 'left', style: 'line', color: colorOf(index, 0) },
    { label: labelFor(run, 'ssekit lag (ms)'), axis: 'left', style: 'line', color: colorOf(index, 3), isDashed: true },
  ];
  return perBucketPart(result, columns, (series, i) => [finiteOrNull(series.latencyP50Ms[i]), finiteOrNull(series.latencyP99Ms[i]), finiteOrNull(series.lagMs[i])]);
}

function publishPart(run: ReportRun, result: PublishResult, index: number): ChartPart | string {
  const timed = result.events.filter((event) => typeof event.atMs === 'number');
  if (timed.length === 0) return result.events.length === 0 ? 'no events were published' : 'not in this result (written before publish events carried their due time)';
  return {
    columns: [
      { label: labelFor(run, 'latency (ms)'), axis: 'left', style: 'points', color: colorOf(index, 0) },
      { label: labelFor(run, 'producer call (ms)'), axis: 'left', style: 'points', color: colorOf(index, 3) },
    ],
    rows: timed.map((event) => ({ x: roundFigure((event.atMs as number) / 1000), values: [finiteOrNull(event.latencyMs), finiteOrNull(event.callMs)] })),
  };
}
