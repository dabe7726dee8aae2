/**
 * The latency percentile distribution as HdrHistogram plots it: latency against the percentile
 * on a log axis of 1/(1−p), so 90 %, 99 %, 99.9 % … are equally spaced and the tail, where the
 * trouble is, gets the room. Read from the result's encoded histogram (exact), never from its
 * rounded summary.
 */
import { decodeLatencyHistogram, type HistogramBlock } from '../../metrics/histogram.js';
import { chartFromRuns } from './align-parts.js';
import { colorOf, finiteOrNull, labelFor, type ChartPart, type ChartRow, type ChartSpec, type ReportRun } from './chart-spec.js';

// Five points per halving of the distance to 100 % (HdrHistogram's default report resolution),
// spaced evenly on the log axis.
const TICKS_PER_HALF_DISTANCE = 5;

// The percentiles people look up (the text report's and the summary's), always in the table
// when the sample count resolves them.
const NAMED_RESTS = [50, 25, 10, 5, 1, 0.1, 0.01, 0.001, 0.0001, 0.00001];

/**
 * The percentiles to sample for `count` samples: 0 %, then towards 100 % in steps of
 * 2^(−1/5) of what is left, plus 50, 75, 90, 95, 99, 99.9 … %, while 1/(1−p) ≤ count (past
 * that the histogram holds no sample to tell one percentile from the next). Rounded to the
 * decimals the page prints, so the browser reads back exactly what was sampled.
 */
export function percentilesToSample(count: number): number[] {
  const rests = [...NAMED_RESTS];
  for (let k = 1; 100 / (100 * 2 ** (-k / TICKS_PER_HALF_DISTANCE)) <= count; k++) rests.push(100 * 2 ** (-k / TICKS_PER_HALF_DISTANCE));
  const percentiles = rests.filter((rest) => 100 / rest <= count).map(percentileRounded);
  return [...new Set([0, ...percentiles])].sort((a, b) => a - b);
}

// 100 − rest, with enough decimals to keep four significant digits of the rest (99.99923 …).
function percentileRounded(rest: number): number {
  const decimals = Math.max(0, Math.ceil(-Math.log10(rest)) + 3);
  return Number((100 - rest).toFixed(decimals));
}

/** The distribution of one run or an overlay of two (delivery latency; for publish runs too). */
export function latencyDistributionChart(runs: readonly ReportRun[]): ChartSpec {
  return {
    id: 'latency-distribution',
    title: 'Latency by percentile',
    caption: 'Delivery latency at each percentile of all deliveries, from the run’s HDR histogram; the axis is logarithmic in 1/(1−p), as HdrHistogram plots it.',
    xKind: 'percentile',
    xLabel: 'percentile (%)',
    yLabel: 'latency (ms)',
    ...chartFromRuns(runs, (run, index) => distributionPart(run, run.result.latency, index)),
  };
}

function distributionPart(run: ReportRun, block: HistogramBlock, index: number): ChartPart | string {
  if (block.summary.count === 0) return 'no latency samples';
  const histogram = decodeLatencyHistogram(block.hdr);
  const rows: ChartRow[] = percentilesToSample(histogram.count).map((p) => ({ x: p, values: [finiteOrNull(histogram.percentileMs(p))] }));
  return { columns: [{ label: labelFor(run, 'latency (ms)'), axis: 'left', style: 'line', color: colorOf(index, 0) }], rows };
}
