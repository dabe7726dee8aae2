/** `assembleBenchResult` is pure: made-up measurements in, the result and its verdict out. */
import { describe, expect, it } from 'vitest';
import { createFleetCounters } from '../../src/bench/fleet-counters.js';
import { assembleBenchResult, type BenchMeasurements } from '../../src/bench/result.js';
import { buildPlan } from '../../src/bench/scenario.js';
import { createLatencyHistogram } from '../../src/metrics/histogram.js';
import { createSeriesRecorder } from '../../src/metrics/time-series.js';

function measurements(overrides: Partial<BenchMeasurements> = {}, thresholds = ['p99<100ms', 'loss==0']): BenchMeasurements {
  const latency = createLatencyHistogram();
  for (let ms = 1; ms <= 50; ms++) latency.recordMs(ms);
  const counters = createFleetCounters();
  counters.opens = 10;
  counters.countReconnect('server-closed');
  return {
    plan: buildPlan({ name: 'unit', target: 'http://127.0.0.1:1', streams: ['/s'], clients: 10, thresholds }, {}, 'unit.yaml'),
    shard: undefined,
    runId: 'r1',
    version: 'test',
    startedAt: new Date('2026-12-01T10:00:00Z'),
    endedAt: new Date('2026-12-01T10:01:00Z'),
    planned: 10,
    counters,
    deliveries: { expectedDeliveries: 50, delivered: 50, lost: 0, duplicated: 0, outOfOrder: 0, recovered: 0, missedDuringReconnect: 0, late: 0, unsettled: 0, peakOpen: 10 },
    latency,
    series: createSeriesRecorder().finish(),
    published: 5,
    publishErrors: 0,
    leak: { source: null, metric: null, baseline: null, final: null, leaked: null, maxDrift: null, graceMs: 0, verdict: 'unknown', samples: [] },
    self: { cpuUserMs: 1, cpuSystemMs: 1, maxRssBytes: 1, heapUsedBytes: 1, socketsAtStart: 0, socketsAtEnd: 0, eventLoopDelay: { p50Ms: 0.5, p99Ms: 2, maxMs: 4 }, cpuShare: 0.1 },
    isInterrupted: false,
    identity: { policy: { kind: 'per-client', subject: 'vu-{{vu}}' }, description: 'one identity per client' },
    meanOpen: 10,
    schedule: null,
    ...overrides,
  };
}

describe('assembleBenchResult', () => {
  it('copies the measurements into the schema and passes thresholds that hold', () => {
    const result = assembleBenchResult(measurements());
    expect(result).toMatchObject({ kind: 'bench', runId: 'r1', durationMs: 60_000, clients: { planned: 10, peakOpen: 10, opens: 10 }, reconnects: { total: 1, byReason: { 'server-closed': 1 } }, endReason: 'passed' });
    expect(result.latency.summary.count).toBe(50);
    expect(result.thresholds.map((t) => [t.expression, t.passed])).toEqual([
      ['p99<100ms', true],
      ['loss==0', true],
      ['open>=95%', true],
      ['lag.p99<50ms', true],
    ]);
  });

  it('fails on a threshold that does not hold, and an unmeasured leak threshold fails too', () => {
    const result = assembleBenchResult(measurements({ deliveries: { expectedDeliveries: 50, delivered: 48, lost: 2, duplicated: 0, outOfOrder: 0, recovered: 0, missedDuringReconnect: 0, late: 0, unsettled: 0, peakOpen: 10 } }, ['loss==0', 'leaks==0']));
    expect(result.endReason).toBe('failed');
    expect(result.thresholds).toEqual([
      { expression: 'loss==0', metric: 'loss', value: 2, passed: false },
      { expression: 'leaks==0', metric: 'leaks', value: null, passed: false, reason: 'not measured in this run' },
      { expression: 'open>=95%', metric: 'open', value: 1, passed: true },
      { expression: 'lag.p99<50ms', metric: 'lag.p99', value: 2, passed: true },
    ]);
  });

  it('says interrupted whatever the thresholds say', () => {
    expect(assembleBenchResult(measurements({ isInterrupted: true })).endReason).toBe('interrupted');
  });
});
