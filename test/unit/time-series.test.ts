/** The time-series recorder: one bucket per second, coarser for long runs, bounded in size. */
import { describe, expect, it } from 'vitest';
import { createRollingLatency, createSeriesRecorder } from '../../src/metrics/time-series.js';

const totals = (n: number) => ({ open: n, delivered: n * 10, connects: n, reconnects: 0, errors: 0 });

describe('time series', () => {
  it('buckets the totals per second as differences, with levels and the server count', () => {
    const recorder = createSeriesRecorder();
    recorder.tick(500, totals(1), 1, 2, { count: 10, p50Ms: 5, p99Ms: 9 });
    recorder.tick(1500, totals(3), undefined, 0, undefined);
    recorder.tick(2500, totals(3), 2, 40, { count: 20, p50Ms: 8, p99Ms: 30 });
    const series = recorder.finish();
    expect(series).toMatchObject({ bucketMs: 1000, open: [1, 3, 3], server: [1, null, 2], deliveries: [10, 20, 0], connects: [1, 2, 0], lagMs: [2, 0, 40] });
    expect(series.latencyP50Ms).toEqual([5, null, 8]);
    expect(series.latencyP99Ms).toEqual([9, null, 30]);
  });

  it('doubles the bucket width instead of growing past its limit', () => {
    const recorder = createSeriesRecorder({ maxBuckets: 10 });
    for (let s = 0; s < 25; s++) recorder.tick(s * 1000 + 100, totals(s), s, 0, { count: 1, p50Ms: s, p99Ms: s });
    const series = recorder.finish();
    expect(series.bucketMs).toBe(4000);
    expect(series.open.length).toBeLessThanOrEqual(10);
    // Counts add up across the merged buckets: every delivery is still counted once.
    expect(series.deliveries.reduce((a, b) => a + b, 0)).toBe(240);
    // p99 of merged buckets is the worse one.
    expect(series.latencyP99Ms[0]).toBe(3);
  });

  it('rolls the latency of each interval into the run histogram exactly', () => {
    const rolling = createRollingLatency();
    for (let i = 1; i <= 100; i++) rolling.recordMs(i);
    const first = rolling.roll();
    for (let i = 0; i < 50; i++) rolling.recordMs(500);
    expect(first).toMatchObject({ count: 100 });
    expect(rolling.total().count).toBe(150);
    expect(rolling.total().maxMs).toBe(500);
    expect(rolling.roll()).toBeUndefined();
  });
});
