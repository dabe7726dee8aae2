/**
 * Latency histograms: HdrHistogram with microsecond resolution (values recorded in µs, 3
 * significant digits, up to 1 h), carried in results in HdrHistogram's standard compressed
 * encoding so runs can be merged exactly (never by averaging percentiles).
 */
import hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';

const HIGHEST_US = 3_600_000_000;

/** A latency histogram recording milliseconds at microsecond resolution. */
export interface LatencyHistogram {
  /** Records one latency in ms (clamped to [0, 1 h]). */
  recordMs(ms: number): void;
  readonly count: number;
  /** The value at a percentile (0–100), in ms; NaN when empty. */
  percentileMs(percentile: number): number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly meanMs: number;
  /** Adds another histogram's counts (exact merge). */
  add(other: LatencyHistogram): void;
  /** Empties it (its memory is kept for reuse). */
  reset(): void;
  /** HdrHistogram compressed base64 (the standard interchange form). */
  encode(): string;
  /** The wrapped histogram, for drawing distributions. */
  readonly raw: Histogram;
}

/** Creates an empty histogram. */
export function createLatencyHistogram(): LatencyHistogram {
  return wrap(hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, bitBucketSize: 32, autoResize: true }));
}

/** Decodes a histogram from its compressed base64 form. */
export function decodeLatencyHistogram(base64: string): LatencyHistogram {
  return wrap(hdr.decodeFromCompressedBase64(base64, 32, false));
}

function wrap(histogram: Histogram): LatencyHistogram {
  return {
    recordMs(ms) {
      const us = Math.round(ms * 1000);
      histogram.recordValue(us < 0 ? 0 : us > HIGHEST_US ? HIGHEST_US : us);
    },
    get count() {
      return histogram.totalCount;
    },
    percentileMs(percentile) {
      // A percentile reads its bucket's highest equivalent value, which can sit a rounding step
      // above the exact maximum: never report a percentile above the max.
      return histogram.totalCount === 0 ? Number.NaN : Math.min(histogram.getValueAtPercentile(percentile), histogram.maxValue) / 1000;
    },
    get minMs() {
      return histogram.totalCount === 0 ? Number.NaN : histogram.minNonZeroValue / 1000;
    },
    get maxMs() {
      return histogram.totalCount === 0 ? Number.NaN : histogram.maxValue / 1000;
    },
    get meanMs() {
      return histogram.totalCount === 0 ? Number.NaN : histogram.mean / 1000;
    },
    add(other) {
      histogram.add(other.raw);
    },
    reset() {
      histogram.reset();
    },
    encode() {
      return hdr.encodeIntoCompressedBase64(histogram);
    },
    raw: histogram,
  };
}

/** The percentiles every report shows, in ms. */
export interface LatencySummary {
  readonly count: number;
  readonly minMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

/** Summarizes a histogram (NaN figures when empty; JSON writers turn them into null). */
export function summarizeLatency(histogram: LatencyHistogram): LatencySummary {
  return {
    count: histogram.count,
    minMs: histogram.minMs,
    p50Ms: histogram.percentileMs(50),
    p90Ms: histogram.percentileMs(90),
    p95Ms: histogram.percentileMs(95),
    p99Ms: histogram.percentileMs(99),
    p999Ms: histogram.percentileMs(99.9),
    maxMs: histogram.maxMs,
    meanMs: histogram.meanMs,
  };
}

/** A named statistic of a summary (`p50` `p90` `p95` `p99` `p999` `min` `max` `mean`), in ms; undefined for other names. */
export function summaryStatMs(summary: LatencySummary, stat: string): number | undefined {
  switch (stat) {
    case 'min':
      return summary.minMs;
    case 'max':
      return summary.maxMs;
    case 'mean':
      return summary.meanMs;
    case 'p50':
      return summary.p50Ms;
    case 'p90':
      return summary.p90Ms;
    case 'p95':
      return summary.p95Ms;
    case 'p99':
      return summary.p99Ms;
    case 'p999':
      return summary.p999Ms;
    default:
      return undefined;
  }
}

/** A latency distribution in a result file: percentiles for people, the encoded histogram for machines. */
export interface HistogramBlock {
  readonly summary: LatencySummary;
  /** HdrHistogram compressed base64 (values in µs). */
  readonly hdr: string;
}

/** A histogram as a result block. */
export function histogramBlock(histogram: LatencyHistogram): HistogramBlock {
  return { summary: summarizeLatency(histogram), hdr: histogram.encode() };
}
