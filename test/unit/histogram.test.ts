/**
 * The latency histogram's fast recording: values wait as counts at HdrHistogram's own indexes
 * and move into the library's histogram on any read. Whatever is read, merged or encoded must
 * equal what recording each value straight into the library gives.
 */
import hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { countsIndexOf, createLatencyHistogram, decodeLatencyHistogram, lowestValueAt, summarizeLatency, type LatencyHistogram } from '../../src/metrics/histogram.js';

const HIGHEST_US = 3_600_000_000;
/** The library's histogram, configured as ssekit's, recording each value itself. */
const reference = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, bitBucketSize: 32, autoResize: true });

/** A seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Latencies in ms over nine decades, with exact zeros, negatives and values past the 1 h cap. */
function latencies(count: number, seed: number): number[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, i) => {
    if (i % 97 === 0) return 0;
    if (i % 211 === 0) return -3;
    if (i % 499 === 0) return 5_000_000;
    return 10 ** (next() * 9 - 3);
  });
}

function recordInto(ms: number, target: ReturnType<typeof reference>): void {
  const us = Math.round(ms * 1000);
  target.recordValue(us < 0 ? 0 : us > HIGHEST_US ? HIGHEST_US : us);
}

function sameFigures(ours: LatencyHistogram, theirs: ReturnType<typeof reference>): void {
  expect(ours.count).toBe(theirs.totalCount);
  expect(ours.maxMs).toBe(theirs.maxValue / 1000);
  expect(ours.minMs).toBe(theirs.minNonZeroValue / 1000);
  expect(ours.meanMs).toBe(theirs.mean / 1000);
  for (const p of [0, 1, 50, 90, 99, 99.9, 100]) expect(ours.percentileMs(p)).toBe(Math.min(theirs.getValueAtPercentile(p), theirs.maxValue) / 1000);
  expect(ours.encode()).toBe(hdr.encodeIntoCompressedBase64(theirs));
}

describe('latency histogram', () => {
  it('puts every value at the counts index the library computes, and back', () => {
    const library = reference() as unknown as { countsArrayIndex(value: number): number; valueFromIndex(index: number): number };
    const next = random(7);
    const values = [0, 1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 65_535, 65_536, 2 ** 31 - 1, 2 ** 31, HIGHEST_US, 2 ** 32 - 1];
    for (let i = 0; i < 20_000; i++) values.push(Math.floor(2 ** (next() * 32)));
    for (const value of values) {
      const index = countsIndexOf(value);
      expect(index).toBe(library.countsArrayIndex(value));
      expect(lowestValueAt(index)).toBe(library.valueFromIndex(index));
      expect(countsIndexOf(lowestValueAt(index))).toBe(index);
    }
  });

  it('reads, encodes and decodes exactly what recording each value in the library gives', () => {
    const ours = createLatencyHistogram();
    const theirs = reference();
    for (const ms of latencies(50_000, 1)) {
      ours.recordMs(ms);
      recordInto(ms, theirs);
    }
    sameFigures(ours, theirs);
    expect(summarizeLatency(decodeLatencyHistogram(ours.encode()))).toEqual(summarizeLatency(decodeLatencyHistogram(hdr.encodeIntoCompressedBase64(theirs))));
  });

  it('stays exact when reads come between records, after reset, and when merged', () => {
    const ours = createLatencyHistogram();
    const theirs = reference();
    const values = latencies(30_000, 2);
    values.forEach((ms, i) => {
      ours.recordMs(ms);
      recordInto(ms, theirs);
      if (i % 7_001 === 0) expect(ours.percentileMs(99)).toBe(Math.min(theirs.getValueAtPercentile(99), theirs.maxValue) / 1000);
    });
    sameFigures(ours, theirs);

    // Merging: a histogram with values still pending is added whole.
    const other = createLatencyHistogram();
    const otherReference = reference();
    for (const ms of latencies(10_000, 3)) {
      other.recordMs(ms);
      recordInto(ms, otherReference);
    }
    ours.add(other);
    theirs.add(otherReference);
    sameFigures(ours, theirs);

    // Reset drops pending values too.
    other.recordMs(12);
    other.reset();
    expect(other.count).toBe(0);
    expect(other.percentileMs(50)).toBeNaN();
    other.recordMs(7);
    expect(other.count).toBe(1);
    expect(other.maxMs).toBe(7);
    expect(other.minMs).toBe(7);
  });

  it('keeps the exact extremes of many equal values and of one bucket', () => {
    const ours = createLatencyHistogram();
    for (let i = 0; i < 5; i++) ours.recordMs(123.4567);
    expect(ours.minMs).toBe(123.457);
    expect(ours.maxMs).toBe(123.457);
    // 100.001 ms and 100.002 ms share a bucket (3 significant digits): both extremes survive.
    const oneBucket = createLatencyHistogram();
    oneBucket.recordMs(100.001);
    oneBucket.recordMs(100.002);
    oneBucket.recordMs(100.0015);
    expect(oneBucket.minMs).toBe(100.001);
    expect(oneBucket.maxMs).toBe(100.002);
  });

  it('records nothing for a value that is not a number', () => {
    const ours = createLatencyHistogram();
    ours.recordMs(Number.NaN);
    expect(ours.count).toBe(0);
    ours.recordMs(2);
    expect(ours.count).toBe(1);
    expect(ours.maxMs).toBe(2);
  });
});
