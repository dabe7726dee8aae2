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

/**
 * HdrHistogram's bucket layout for this configuration (lowest discernible value 1 µs, 3
 * significant digits): 2,048 sub-buckets per bucket, the upper half of each used from bucket 1
 * on. `countsIndexOf` computes the same counts index as the library (its `countsArrayIndex`),
 * with integer operations instead of its `Math.log2` and `Math.pow`: the test compares the two.
 */
const SUB_BUCKET_HALF_COUNT_MAGNITUDE = 10;
const SUB_BUCKET_HALF_COUNT = 1 << SUB_BUCKET_HALF_COUNT_MAGNITUDE;
const SUB_BUCKET_MASK = (SUB_BUCKET_HALF_COUNT << 1) - 1;
/** 32 minus the leading zeros of the smallest value of bucket 1, less one: bucket = this − clz32(value | mask). */
const BUCKET_INDEX_BASE = 31 - SUB_BUCKET_HALF_COUNT_MAGNITUDE;
const FIRST_PENDING_LENGTH = 4096;

/** The HdrHistogram counts index of an integer value in [0, 2³²). */
export function countsIndexOf(value: number): number {
  const bucket = BUCKET_INDEX_BASE - Math.clz32(value | SUB_BUCKET_MASK);
  return ((bucket + 1) << SUB_BUCKET_HALF_COUNT_MAGNITUDE) + (value >>> bucket) - SUB_BUCKET_HALF_COUNT;
}

/** The lowest value HdrHistogram keeps at a counts index (the inverse of `countsIndexOf`). */
export function lowestValueAt(index: number): number {
  let bucket = (index >> SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1;
  let subBucket = (index & (SUB_BUCKET_HALF_COUNT - 1)) + SUB_BUCKET_HALF_COUNT;
  if (bucket < 0) {
    subBucket -= SUB_BUCKET_HALF_COUNT;
    bucket = 0;
  }
  return subBucket * 2 ** bucket;
}

/**
 * Values recorded but not yet in the HdrHistogram: counts at the library's own indexes, with
 * the exact smallest (non-zero) and largest value. Recording is an index computation and an
 * increment (the library's `recordValue` costs several times that, twice per delivery on the
 * fleet's hot path); every read moves the pending counts into the histogram first, so what
 * is read, merged and encoded is exactly what recording each value there would have given.
 */
class PendingCounts {
  counts: Uint32Array | undefined;
  total = 0;
  lowIndex = Number.POSITIVE_INFINITY;
  highIndex = -1;
  minNonZero = Number.POSITIVE_INFINITY;
  max = 0;

  record(us: number): void {
    const index = countsIndexOf(us);
    let counts = this.counts;
    if (counts === undefined || index >= counts.length) counts = this.grow(index);
    counts[index] = (counts[index] as number) + 1;
    this.total += 1;
    if (index < this.lowIndex) this.lowIndex = index;
    if (index > this.highIndex) this.highIndex = index;
    if (us > this.max) this.max = us;
    if (us !== 0 && us < this.minNonZero) this.minNonZero = us;
  }

  private grow(index: number): Uint32Array {
    let length = this.counts?.length ?? FIRST_PENDING_LENGTH;
    while (length <= index) length *= 2;
    const counts = new Uint32Array(length);
    if (this.counts !== undefined) counts.set(this.counts);
    this.counts = counts;
    return counts;
  }

  /** Moves every pending count into `histogram`, the extremes at their exact values. */
  flushInto(histogram: Histogram): void {
    const counts = this.counts;
    if (this.total === 0 || counts === undefined) return;
    const minIndex = this.minNonZero === Number.POSITIVE_INFINITY ? -1 : countsIndexOf(this.minNonZero);
    const maxIndex = countsIndexOf(this.max);
    for (let index = this.lowIndex; index <= this.highIndex; index++) {
      let count = counts[index] as number;
      if (count === 0) continue;
      counts[index] = 0;
      if (index === maxIndex) {
        histogram.recordValueWithCount(this.max, 1);
        count -= 1;
      }
      // The rest of the smallest value's bucket goes in at that value: the bucket's lowest
      // value would be below the true minimum. Any other bucket's lowest value lies between the two.
      if (count > 0) histogram.recordValueWithCount(index === minIndex ? this.minNonZero : lowestValueAt(index), count);
    }
    this.empty();
  }

  clear(): void {
    if (this.counts !== undefined && this.highIndex >= 0) this.counts.fill(0, this.lowIndex, this.highIndex + 1);
    this.empty();
  }

  /** No value pending (the counts array is already zero). */
  private empty(): void {
    this.total = 0;
    this.lowIndex = Number.POSITIVE_INFINITY;
    this.highIndex = -1;
    this.minNonZero = Number.POSITIVE_INFINITY;
    this.max = 0;
  }
}

function wrap(histogram: Histogram): LatencyHistogram {
  const pending = new PendingCounts();
  /** The histogram with everything recorded so far. */
  const settled = (): Histogram => {
    if (pending.total > 0) pending.flushInto(histogram);
    return histogram;
  };
  return {
    recordMs(ms) {
      const us = Math.round(ms * 1000);
      // Not a time at all: nothing to record (the library would have counted it in no bucket).
      if (Number.isNaN(us)) return;
      pending.record(us < 0 ? 0 : us > HIGHEST_US ? HIGHEST_US : us);
    },
    get count() {
      return histogram.totalCount + pending.total;
    },
    percentileMs(percentile) {
      const h = settled();
      // A percentile reads its bucket's highest equivalent value, which can sit a rounding step
      // above the exact maximum: never report a percentile above the max.
      return h.totalCount === 0 ? Number.NaN : Math.min(h.getValueAtPercentile(percentile), h.maxValue) / 1000;
    },
    get minMs() {
      const h = settled();
      return h.totalCount === 0 ? Number.NaN : h.minNonZeroValue / 1000;
    },
    get maxMs() {
      const h = settled();
      return h.totalCount === 0 ? Number.NaN : h.maxValue / 1000;
    },
    get meanMs() {
      const h = settled();
      return h.totalCount === 0 ? Number.NaN : h.mean / 1000;
    },
    add(other) {
      settled().add(other.raw);
    },
    reset() {
      pending.clear();
      histogram.reset();
    },
    encode() {
      return hdr.encodeIntoCompressedBase64(settled());
    },
    get raw() {
      return settled();
    },
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
