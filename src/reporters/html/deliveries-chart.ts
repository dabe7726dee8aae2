/**
 * Deliveries per second against reconnects and errors per second: a throughput dip that lines
 * up with a burst of reconnects is the server dropping streams; errors rising alone is the
 * server refusing new ones.
 */
import type { BenchResult } from '../../metrics/bench-result.js';
import { chartFromRuns } from './align-parts.js';
import { colorOf, labelFor, type ChartColumn, type ChartPart, type ChartSpec, type ReportRun } from './chart-spec.js';
import { perBucketPart, perSecond } from './series-time.js';

/** The deliveries-and-reconnects chart of one run or an overlay of two. */
export function deliveriesChart(runs: readonly ReportRun[]): ChartSpec {
  return {
    id: 'deliveries',
    title: 'Deliveries and reconnects per second',
    caption: 'Expected events that arrived, per second (left axis), and the reconnects and errors of stream requests, per second (right axis), averaged over each bucket.',
    xKind: 'time',
    xLabel: 'time (s)',
    yLabel: 'deliveries/s',
    y2Label: 'reconnects/s, errors/s',
    ...chartFromRuns(runs, (run, index) => (run.result.kind === 'bench' ? deliveriesPart(run, run.result, index) : 'a publish result has no per-second series')),
  };
}

function deliveriesPart(run: ReportRun, result: BenchResult, index: number): ChartPart | string {
  const columns: ChartColumn[] = [
    { label: labelFor(run, 'deliveries/s'), axis: 'left', style: 'line', color: colorOf(index, 0) },
    { label: labelFor(run, 'reconnects/s'), axis: 'right', style: 'line', color: colorOf(index, 1) },
    { label: labelFor(run, 'errors/s'), axis: 'right', style: 'line', color: colorOf(index, 2), isDashed: true },
  ];
  return perBucketPart(result, columns, (series, i) => [perSecond(series, series.deliveries[i]), perSecond(series, series.reconnects[i]), perSecond(series, series.errors[i])]);
}
