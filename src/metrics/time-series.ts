/**
 * A run's figures over time, compact: one bucket per second (coarser for long runs, so a result
 * never holds more than `MAX_BUCKETS` of them): ssekit's open streams beside the server's own
 * count (the picture of a leak), deliveries, latency p50/p99, connects, reconnects, errors and
 * ssekit's own event-loop lag. The recorder is fed once per tick (never per event): the running
 * totals, and the latency of the deliveries since the last tick from a `RollingLatency`, whose
 * one histogram per interval costs the hot path nothing more than the run's own histogram.
 */
import { createLatencyHistogram, type LatencyHistogram } from './histogram.js';

/** The most buckets a series holds: 10 minutes at 1 s; longer runs use 2 s, 4 s, … buckets. */
export const MAX_BUCKETS = 600;

/** The series of a run (result schema v2). Every array has one entry per bucket. */
export interface TimeSeries {
  /** Bucket width, ms. */
  readonly bucketMs: number;
  /** Streams ssekit held open at the end of each bucket. */
  readonly open: readonly number[];
  /** The server's own count, last read in each bucket; null where none was read. */
  readonly server: readonly (number | null)[];
  /** Deliveries (expected events that arrived) in each bucket. */
  readonly deliveries: readonly number[];
  /** Delivery latency p50 and p99 in each bucket, ms; null without samples. */
  readonly latencyP50Ms: readonly (number | null)[];
  readonly latencyP99Ms: readonly (number | null)[];
  /** Successful opens, reconnects and errors in each bucket. */
  readonly connects: readonly number[];
  readonly reconnects: readonly number[];
  readonly errors: readonly number[];
  /** ssekit's own event-loop lag, worst in each bucket, ms (over the 10 ms sampling). */
  readonly lagMs: readonly number[];
}

/** The running totals the recorder reads each tick. */
export interface SeriesTotals {
  readonly open: number;
  readonly delivered: number;
  readonly connects: number;
  readonly reconnects: number;
  readonly errors: number;
}

/** The latency of one interval: its sample count and percentiles, ms. */
export interface IntervalLatency {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Records a series; `tick` at least once per bucket (the engine ticks every second). */
export interface SeriesRecorder {
  /**
   * At `atMs` (ms since the run started): the running totals, the server's count if read since
   * the last tick, ssekit's worst lag since then, and the latency of the deliveries since then.
   */
  tick(atMs: number, totals: SeriesTotals, server: number | undefined, lagMs: number, latency: IntervalLatency | undefined): void;
  /** The series so far. */
  finish(): TimeSeries;
}

interface Bucket {
  open: number;
  server: number | null;
  deliveries: number;
  connects: number;
  reconnects: number;
  errors: number;
  lagMs: number;
  latencyCount: number;
  p50Ms: number;
  p99Ms: number;
}

const emptyBucket = (): Bucket => ({ open: 0, server: null, deliveries: 0, connects: 0, reconnects: 0, errors: 0, lagMs: 0, latencyCount: 0, p50Ms: 0, p99Ms: 0 });

/**
 * Two latency figures of one bucket merged: p99 the worse of the two (never better than what
 * was seen), p50 weighted by their counts. Exact percentiles would need a histogram per bucket
 * (tens of KiB each); the run's own histogram stays exact.
 */
function mergeLatency(into: Bucket, count: number, p50Ms: number, p99Ms: number): void {
  if (count === 0) return;
  const total = into.latencyCount + count;
  into.p50Ms = (into.p50Ms * into.latencyCount + p50Ms * count) / total;
  into.p99Ms = Math.max(into.p99Ms, p99Ms);
  into.latencyCount = total;
}

/** Creates a recorder with 1 s buckets (doubling when the run outgrows `maxBuckets`). */
export function createSeriesRecorder(options: { readonly bucketMs?: number; readonly maxBuckets?: number } = {}): SeriesRecorder {
  let bucketMs = options.bucketMs ?? 1000;
  const maxBuckets = options.maxBuckets ?? MAX_BUCKETS;
  let buckets: Bucket[] = [];
  let last: SeriesTotals = { open: 0, delivered: 0, connects: 0, reconnects: 0, errors: 0 };

  const bucketAt = (atMs: number): Bucket => {
    let index = Math.max(0, Math.floor(atMs / bucketMs));
    while (index >= maxBuckets) {
      buckets = coarsen(buckets);
      bucketMs *= 2;
      index = Math.floor(atMs / bucketMs);
    }
    while (buckets.length <= index) buckets.push({ ...emptyBucket(), open: buckets.at(-1)?.open ?? 0 });
    return buckets[index] as Bucket;
  };

  return {
    tick(atMs, totals, server, lagMs, latency) {
      const bucket = bucketAt(atMs);
      if (latency !== undefined) mergeLatency(bucket, latency.count, latency.p50Ms, latency.p99Ms);
      bucket.open = totals.open;
      if (server !== undefined) bucket.server = server;
      bucket.deliveries += totals.delivered - last.delivered;
      bucket.connects += totals.connects - last.connects;
      bucket.reconnects += totals.reconnects - last.reconnects;
      bucket.errors += totals.errors - last.errors;
      bucket.lagMs = Math.max(bucket.lagMs, lagMs);
      last = totals;
    },
    finish() {
      return {
        bucketMs,
        open: buckets.map((b) => b.open),
        server: buckets.map((b) => b.server),
        deliveries: buckets.map((b) => b.deliveries),
        latencyP50Ms: buckets.map((b) => (b.latencyCount === 0 ? null : round(b.p50Ms))),
        latencyP99Ms: buckets.map((b) => (b.latencyCount === 0 ? null : round(b.p99Ms))),
        connects: buckets.map((b) => b.connects),
        reconnects: buckets.map((b) => b.reconnects),
        errors: buckets.map((b) => b.errors),
        lagMs: buckets.map((b) => round(b.lagMs)),
      };
    },
  };
}

/** Pairs of buckets merged into one: counts added, levels from the later, latency as `mergeLatency`. */
function coarsen(buckets: readonly Bucket[]): Bucket[] {
  const out: Bucket[] = [];
  for (let i = 0; i < buckets.length; i += 2) {
    const a = buckets[i] as Bucket;
    const b = buckets[i + 1];
    if (b === undefined) {
      out.push(a);
      continue;
    }
    const merged: Bucket = {
      open: b.open,
      server: b.server ?? a.server,
      deliveries: a.deliveries + b.deliveries,
      connects: a.connects + b.connects,
      reconnects: a.reconnects + b.reconnects,
      errors: a.errors + b.errors,
      lagMs: Math.max(a.lagMs, b.lagMs),
      latencyCount: a.latencyCount,
      p50Ms: a.p50Ms,
      p99Ms: a.p99Ms,
    };
    mergeLatency(merged, b.latencyCount, b.p50Ms, b.p99Ms);
    out.push(merged);
  }
  return out;
}

/**
 * The run's latency histogram, split by interval: deliveries record into the current
 * interval's histogram (one record per delivery, as before); `roll` adds it to the run's total,
 * reads its percentiles and empties it for the next interval.
 */
export interface RollingLatency {
  recordMs(ms: number): void;
  /** The interval since the last roll (undefined when it had no sample). */
  roll(): IntervalLatency | undefined;
  /** Every sample so far (rolled or not): the run's histogram. */
  total(): LatencyHistogram;
  /** p99 of everything so far, for progress (rolls nothing). */
  readonly p99Ms: number;
}

/** Creates the rolling latency. */
export function createRollingLatency(): RollingLatency {
  const current = createLatencyHistogram();
  const rolled = createLatencyHistogram();
  const roll = (): IntervalLatency | undefined => {
    if (current.count === 0) return undefined;
    const interval = { count: current.count, p50Ms: current.percentileMs(50), p99Ms: current.percentileMs(99) };
    rolled.add(current);
    current.reset();
    return interval;
  };
  return {
    recordMs: (ms) => current.recordMs(ms),
    roll,
    total() {
      roll();
      return rolled;
    },
    get p99Ms() {
      return rolled.count === 0 ? current.percentileMs(99) : rolled.percentileMs(99);
    },
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
