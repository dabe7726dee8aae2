import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { evaluateThresholds, parseThreshold, type ThresholdFigures } from '../../src/metrics/thresholds.js';

describe('threshold syntax', () => {
  it.each([
    ['p99<500ms', 'latency.p99', '<', 500, false],
    ['p(99)<500', 'latency.p99', '<', 500, false],
    ['p(99.9) <= 1s', 'latency.p999', '<=', 1000, false],
    ['max<1s', 'latency.max', '<', 1000, false],
    ['avg<20', 'latency.mean', '<', 20, false],
    ['connect.p95<1s', 'connect.p95', '<', 1000, false],
    ['firstEvent.p50<2s', 'firstEvent.p50', '<', 2000, false],
    ['loss==0', 'loss', '==', 0, false],
    ['leaks==0', 'leaks', '==', 0, false],
    ['errors<1%', 'errors', '<', 0.01, true],
    ['duplicates==0', 'duplicates', '==', 0, false],
  ])('parses %s', (text, metric, op, value, isRatio) => {
    expect(parseThreshold(text)).toMatchObject({ metric, op, value, isRatio });
  });

  it.each(['p99', 'p99<<5', 'speed<5', 'p99<5%', 'loss<5ms', ''])('rejects %s with a usage error', (text) => {
    expect(() => parseThreshold(text)).toThrow(UsageError);
  });
});

describe('threshold verdicts', () => {
  const figures = (latency: number, counts: Record<string, { value: number; total: number }>): ThresholdFigures => ({
    latency: () => latency,
    count: (name) => counts[name],
  });

  it('passes and fails on values', () => {
    const results = evaluateThresholds([parseThreshold('p99<500ms'), parseThreshold('loss==0')], figures(120, { loss: { value: 2, total: 100 } }));
    expect(results.map((r) => [r.expression, r.passed, r.value])).toEqual([
      ['p99<500ms', true, 120],
      ['loss==0', false, 2],
    ]);
  });

  it('fails a threshold on a figure with no samples (k6 would pass it)', () => {
    const [latency, ratio, missing] = evaluateThresholds([parseThreshold('p99<500ms'), parseThreshold('errors<1%'), parseThreshold('leaks==0')], figures(Number.NaN, { errors: { value: 0, total: 0 } }));
    expect(latency).toMatchObject({ passed: false, value: null, reason: 'no samples' });
    expect(ratio).toMatchObject({ passed: false, reason: 'no samples' });
    expect(missing).toMatchObject({ passed: false, reason: 'not measured in this run' });
  });

  it('compares ratios as fractions of their total', () => {
    const [ok, bad] = evaluateThresholds([parseThreshold('errors<1%'), parseThreshold('errors<0.1%')], figures(1, { errors: { value: 5, total: 1000 } }));
    expect(ok?.passed).toBe(true);
    expect(bad?.passed).toBe(false);
  });
});
