/**
 * Result files: exact shard merges (three shards against one histogram that recorded
 * everything), refusals, threshold re-evaluation, leak rules, comparison and the p99
 * regression gate, and validation of wrong files.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { createLatencyHistogram, decodeLatencyHistogram, summarizeLatency } from '../../src/metrics/histogram.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { compareResults, parseRegressionLimit } from '../../src/stats/compare.js';
import { mergeResults } from '../../src/stats/merge.js';
import { validateResultFile as validateResult, type NamedResult as AnyNamedResult } from '../../src/stats/result-file.js';

type NamedResult = AnyNamedResult<BenchResult>;
import { latencies, makeResult } from '../fixtures/stats/make-result.js';

function shards(): { inputs: NamedResult[]; all: number[] } {
  const parts = [latencies(500, 2, 40, 11), latencies(700, 5, 120, 22), latencies(300, 1, 900, 33)];
  const inputs = parts.map((latencyMs, i) =>
    ({
      file: `shard-${i + 1}.json`,
      result: makeResult({
        shard: { index: i + 1, count: 3 },
        latencyMs,
        connectMs: [i + 1, i + 2],
        startedAt: `2025-01-01T00:00:0${i}.000Z`,
        endedAt: `2025-01-01T00:01:0${i}.000Z`,
        durationMs: 60_000 + i * 10,
        events: { published: 10 + i, delivered: 100 * (i + 1), expectedDeliveries: 100 * (i + 1) + i, lost: i },
        clients: { planned: 10, peakOpen: 9 + i, opens: 10 + i },
        leak: { samples: Array.from({ length: i + 1 }, (_, t) => ({ tMs: t * 1000, server: 0, client: 0 })), maxDrift: i, leaked: 0 },
        self: { socketsAtStart: 1, socketsAtEnd: 1 + i },
        thresholds: [{ expression: 'p99<500ms', metric: 'latency.p99', value: 1, passed: true }],
      }),
    }) satisfies NamedResult,
  );
  return { inputs, all: parts.flat() };
}

describe('mergeResults', () => {
  it('adds histograms exactly: the merged percentiles equal one histogram that recorded everything', () => {
    const { inputs, all } = shards();
    const { result, warnings } = mergeResults(inputs);
    expect(warnings).toEqual([]);
    const recorder = createLatencyHistogram();
    for (const v of all) recorder.recordMs(v);
    // What one unsharded run would have stored: the encoding keeps counts per HDR bucket (3
    // significant digits), so the max becomes its bucket's highest value, as in any result file.
    const reference = decodeLatencyHistogram(recorder.encode());
    expect(result.latency.summary).toEqual(summarizeLatency(reference));
    expect(result.latency.hdr).toBe(reference.encode());
    expect(result.latency.summary.count).toBe(1500);
    const decoded = decodeLatencyHistogram(result.latency.hdr);
    for (const p of [50, 90, 99, 99.9]) expect(decoded.percentileMs(p)).toBe(reference.percentileMs(p));
    expect(result.connect.headers.summary.count).toBe(6);
  });

  it('sums counts and maps, takes durations and times at their extremes, and marks the result unsharded', () => {
    const { inputs } = shards();
    const { result } = mergeResults(inputs);
    // Merged results are written in the current schema (v2) even from v1 shards.
    expect(result).toMatchObject({ schemaVersion: 2, kind: 'bench', shard: null, runId: 'run-1', durationMs: 60_020, startedAt: '2025-01-01T00:00:00.000Z', endedAt: '2025-01-01T00:01:02.000Z' });
    expect(result.events).toMatchObject({ published: 33, delivered: 600, expectedDeliveries: 603, lost: 3 });
    // The fixtures carry no meanOpen (files written before it): the sum is unknown, not 0.
    expect(result.clients).toEqual({ planned: 30, peakOpen: 30, opens: 33, meanOpen: null });
    expect(result.reconnects).toEqual({ total: 6, byReason: { graceful: 3, reset: 3 } });
    expect(result.statuses).toEqual({ '200': 36 });
    expect(result.self).toMatchObject({ cpuUserMs: 300, socketsAtStart: 3, socketsAtEnd: 6, maxRssBytes: 50_000_000 });
    // Leak: from the shard with the most samples, conservatively the largest drift.
    expect(result.leak.samples).toHaveLength(3);
    expect(result.leak).toMatchObject({ verdict: 'ok', maxDrift: 2, leaked: 0 });
  });

  it('re-evaluates latency thresholds on the merged histogram', () => {
    const { inputs } = shards();
    // Shard 3 reaches 900 ms, so the merged p99 is over 500 ms although every shard's own verdict passed.
    const { result } = mergeResults(inputs);
    const verdict = result.thresholds[0];
    expect(verdict).toMatchObject({ expression: 'p99<500ms', metric: 'latency.p99', passed: false });
    expect(verdict?.value).toBe(result.latency.summary.p99Ms);
    expect(result.endReason).toBe('failed');
  });

  it('re-judges leaks on the merged leak report (any shard that saw a leak)', () => {
    const a = makeResult({ shard: { index: 1, count: 2 }, thresholds: [{ expression: 'leaks==0', metric: 'leaks', value: 0, passed: true }] });
    const b = makeResult({ shard: { index: 2, count: 2 }, leak: { verdict: 'leak', leaked: 3 }, thresholds: [{ expression: 'leaks==0', metric: 'leaks', value: 3, passed: false }] });
    const { result } = mergeResults([
      { file: 'a.json', result: a },
      { file: 'b.json', result: b },
    ]);
    expect(result.thresholds).toEqual([{ expression: 'leaks==0', metric: 'leaks', value: 3, passed: false }]);
    expect(result.leak).toMatchObject({ verdict: 'leak', leaked: 3 });
    expect(result.endReason).toBe('failed');
  });

  it('keeps an undercount one shard saw (the server lost count of its streams), with the largest shortfall', () => {
    const a = makeResult({ shard: { index: 1, count: 2 }, leak: { verdict: 'ok', undercounted: 0, minDrift: -1 }, thresholds: [{ expression: 'undercount==0', metric: 'undercount', value: 0, passed: true }] });
    // Fewer samples than a: the merged report's base is a's, but b's verdict must survive.
    const b = makeResult({ shard: { index: 2, count: 2 }, leak: { verdict: 'undercount', undercounted: 40, minDrift: -40, samples: [] }, thresholds: [{ expression: 'undercount==0', metric: 'undercount', value: 40, passed: false }] });
    const { result } = mergeResults([
      { file: 'a.json', result: a },
      { file: 'b.json', result: b },
    ]);
    expect(result.leak).toMatchObject({ verdict: 'undercount', undercounted: 40, minDrift: -40 });
    expect(result.thresholds).toEqual([{ expression: 'undercount==0', metric: 'undercount', value: 40, passed: false }]);
    expect(result.endReason).toBe('failed');
  });

  it('re-judges count thresholds on the summed figures: shards that each passed can fail together', () => {
    const parts = [1, 2, 3].map((index) => makeResult({ shard: { index, count: 3 }, reconnects: { total: 60, byReason: { 'churn-graceful': 60 } }, thresholds: [{ expression: 'reconnects<100', metric: 'reconnects', value: 60, passed: true }] }));
    const { result } = mergeResults(parts.map((result, i) => ({ file: `s${i}.json`, result })));
    expect(result.reconnects.total).toBe(180);
    expect(result.thresholds).toEqual([{ expression: 'reconnects<100', metric: 'reconnects', value: 180, passed: false }]);
    expect(result.endReason).toBe('failed');
  });

  it('warns about missing shards', () => {
    const { inputs } = shards();
    expect(mergeResults(inputs.slice(0, 2)).warnings).toEqual(['shard 3 of 3 missing: the merged result covers only part of the run']);
  });

  it.each([
    ['a different scenario hash', { scenario: { name: 'admin-orders', hash: 'sha256:other' } }, /shard-2\.json: scenario admin-orders \(sha256:other\) differs from shard-1\.json/],
    ['a different run id', { runId: 'run-2' }, /shard-2\.json: run run-2 differs from shard-1\.json's run-1/],
    ['a duplicate shard index', { shard: { index: 1, count: 3 } }, /shard-2\.json: shard 1\/3 given twice \(also shard-1\.json\)/],
    ['a different shard count', { shard: { index: 2, count: 4 } }, /shard 2\/4 does not match shard-1\.json's count of 3/],
    ['an unsharded result', { shard: null }, /shard-2\.json: not a shard/],
  ])('refuses %s with a UsageError', (_what, change, message) => {
    const { inputs } = shards();
    const second = inputs[1] as NamedResult;
    const bad = [inputs[0] as NamedResult, { file: second.file, result: { ...second.result, ...change } }];
    expect(() => mergeResults(bad)).toThrow(UsageError);
    expect(() => mergeResults(bad)).toThrow(message);
  });
});

describe('compareResults', () => {
  const base = makeResult({ latencyMs: latencies(200, 10, 100, 5), events: { lost: 1, expectedDeliveries: 100 } });

  it('puts percentiles, loss, errors and leaks side by side with the change', () => {
    const next = makeResult({ latencyMs: latencies(200, 10, 100, 5).map((v) => v * 1.5), events: { lost: 4, expectedDeliveries: 100 }, errors: { total: 2, byClass: { http: 2 } } });
    const c = compareResults(base, next);
    const row = (name: string) => c.figures.find((f) => f.figure === name);
    expect(row('latency p99')?.changePct).toBeCloseTo(50, 0);
    expect(row('lost')).toMatchObject({ base: 1, next: 4, change: 3, changePct: 300, better: 'lower' });
    expect(row('loss rate')).toMatchObject({ base: 0.01, next: 0.04 });
    expect(row('errors')).toMatchObject({ base: 0, next: 2, changePct: Number.POSITIVE_INFINITY });
    expect(row('leaked streams')).toMatchObject({ base: 0, next: 0, change: 0 });
    expect(c.regression).toBeUndefined();
    expect(c.isSameScenario).toBe(true);
  });

  it('fails --max-regression when p99 got worse by more than the limit, passes within it', () => {
    const worse = makeResult({ latencyMs: latencies(200, 10, 100, 5).map((v) => v * 1.2) });
    expect(compareResults(base, worse, { maxRegression: parseRegressionLimit('10%') }).regression).toMatchObject({ passed: false, reason: expect.stringMatching(/p99 got worse by (19\.\d+|20) %, over the 10 % allowed/) });
    expect(compareResults(base, worse, { maxRegression: parseRegressionLimit('25%') }).regression?.passed).toBe(true);
    expect(compareResults(base, worse, { maxRegression: parseRegressionLimit('50ms') }).regression?.passed).toBe(true);
    expect(compareResults(base, worse, { maxRegression: parseRegressionLimit('5ms') }).regression?.passed).toBe(false);
    const better = makeResult({ latencyMs: latencies(200, 5, 50, 5) });
    expect(compareResults(base, better, { maxRegression: parseRegressionLimit('0%') }).regression?.passed).toBe(true);
  });

  it('fails the gate when a run has no latency samples', () => {
    const empty = makeResult({ latencyMs: [] });
    expect(compareResults(base, empty, { maxRegression: parseRegressionLimit('10%') }).regression).toMatchObject({ passed: false, reason: 'no latency samples in the new run' });
  });

  it('parses --max-regression', () => {
    expect(parseRegressionLimit('10%')).toEqual({ kind: 'percent', percent: 10 });
    expect(parseRegressionLimit('7.5')).toEqual({ kind: 'percent', percent: 7.5 });
    expect(parseRegressionLimit('1s')).toEqual({ kind: 'absolute', ms: 1000 });
    expect(() => parseRegressionLimit('lots')).toThrow(/--max-regression: 'lots' is neither a percentage nor a duration/);
  });
});

describe('validateResult', () => {
  it('accepts a valid result', () => {
    const result = validateResult(JSON.parse(JSON.stringify(makeResult())), 'r.json');
    expect(result.kind === 'bench' && result.runId).toBe('run-1');
  });

  it.each([
    [[1, 2], /r\.json: not a result \(not a JSON object\)/],
    [{ hello: 1 }, /r\.json: not a result \(no schemaVersion\)/],
    [{ ...makeResult(), schemaVersion: 3 }, /r\.json: schemaVersion 3 is not supported \(this ssekit reads 1 and 2\)/],
    [{ ...makeResult(), kind: 'listen' }, /kind "listen" is not 'bench' or 'publish'/],
    [{ ...makeResult(), kind: 'publish' }, /producer is missing or not a string/],
    [{ ...makeResult(), latency: { summary: {}, hdr: 42 } }, /latency\.hdr is missing or not a string/],
    [{ ...makeResult(), latency: { summary: {}, hdr: 'not-base64!' } }, /latency\.hdr is not an HdrHistogram/],
  ])('rejects a wrong file in one line naming it (%#)', (json, message) => {
    try {
      validateResult(json, 'r.json');
      expect.fail('should throw');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('time series (schema v2)', () => {
  it("merges shards' series on one clock: counts add up, open streams as each shard held them at the end of the bucket", () => {
    const seriesOf = (bucketMs: number, open: number[], deliveries: number[]) => {
      const none = open.map(() => null);
      const zeros = open.map(() => 0);
      return { bucketMs, open, server: none, deliveries, latencyP50Ms: none, latencyP99Ms: none, connects: zeros, reconnects: zeros, errors: zeros, lagMs: zeros };
    };
    const shard = (index: number, series: ReturnType<typeof seriesOf>): NamedResult => ({
      file: `shard-${index}.json`,
      result: { ...makeResult({ shard: { index, count: 2 } }), schemaVersion: 2, series },
    });
    // One shard at 1 s buckets ramping 10 → 40, the other already coarsened to 2 s buckets.
    const { result } = mergeResults([shard(1, seriesOf(1000, [10, 20, 30, 40], [1, 2, 3, 4])), shard(2, seriesOf(2000, [5, 7], [10, 20]))]);
    expect(result.series?.bucketMs).toBe(2000);
    // The end of each 2 s bucket: 20 + 5 and 40 + 7 (a mean over the bucket would give 15 + 5, 35 + 7).
    expect(result.series?.open).toEqual([25, 47]);
    expect(result.series?.deliveries).toEqual([13, 27]);
  });

  it('reads a version 1 file (no series) and a version 2 one', () => {
    const v1 = validateResult(JSON.parse(JSON.stringify({ ...makeResult(), schemaVersion: 1 })), 'v1.json');
    expect(v1.kind === 'bench' && v1.series).toBeUndefined();
    const v2 = validateResult(JSON.parse(JSON.stringify({ ...makeResult(), schemaVersion: 2 })), 'v2.json');
    expect(v2.schemaVersion).toBe(2);
  });
});
