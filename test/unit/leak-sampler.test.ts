/** The leak sampler with a fake reader of the server's count (no sockets): ok, leak, unknown, cut short. */
import { describe, expect, it } from 'vitest';
import { createLeakSampler } from '../../src/bench/leak.js';

/** A reader returning the given values in turn (the last repeats); `undefined` is a failed read. */
function reader(values: readonly (number | undefined)[]): () => Promise<number | undefined> {
  let i = 0;
  return async () => values[Math.min(i++, values.length - 1)];
}

const never = new AbortController().signal;

describe('leak sampler', () => {
  it('reports ok when the server count returns to its baseline', async () => {
    const sampler = createLeakSampler({ read: reader([2, 2]), source: 'http://x/metrics', metric: 'open', intervalMs: 5, startedAt: performance.now() });
    await sampler.takeBaseline();
    await sampler.settle(100, never);
    expect(sampler.report()).toMatchObject({ baseline: 2, final: 2, leaked: 0, verdict: 'ok' });
  });

  it('reports a leak when the count stays above the baseline after the grace', async () => {
    const sampler = createLeakSampler({ read: reader([0, 5, 3, 3]), source: null, metric: null, intervalMs: 5, startedAt: performance.now() });
    await sampler.takeBaseline();
    await sampler.settle(50, never);
    expect(sampler.report()).toMatchObject({ baseline: 0, final: 3, leaked: 3, verdict: 'leak' });
  });

  it('polls until the count comes back within the grace', async () => {
    const sampler = createLeakSampler({ read: reader([1, 4, 3, 1]), source: null, metric: null, intervalMs: 5, startedAt: performance.now() });
    await sampler.takeBaseline();
    await sampler.settle(5_000, never);
    const report = sampler.report();
    expect(report.verdict).toBe('ok');
    expect(report.samples.map((s) => s.server)).toEqual([4, 3, 1]);
  });

  it('is unknown when the server cannot be read, or without a reader', async () => {
    const failing = createLeakSampler({ read: reader([undefined]), source: null, metric: null, startedAt: 0 });
    await failing.takeBaseline();
    await failing.settle(10, never);
    expect(failing.report()).toMatchObject({ baseline: null, leaked: null, verdict: 'unknown' });
    const none = createLeakSampler({ source: null, metric: null, startedAt: 0 });
    await none.takeBaseline();
    await none.settle(10, never);
    expect(none.report().verdict).toBe('unknown');
  });

  it('samples beside the client count while running, and measures the drift over ours', async () => {
    const sampler = createLeakSampler({ read: reader([0, 12]), source: null, metric: null, intervalMs: 5, startedAt: performance.now() });
    await sampler.takeBaseline();
    sampler.startSampling(() => 10);
    await new Promise((resolve) => setTimeout(resolve, 40));
    await sampler.stopSampling();
    const report = sampler.report();
    expect(report.samples.length).toBeGreaterThan(0);
    expect(report.samples.every((s) => s.client === 10 && s.server === 12)).toBe(true);
    expect(report.maxDrift).toBe(2);
  });

  it('makes a leak verdict unknown when Ctrl-C cut the settle short', async () => {
    const controller = new AbortController();
    const sampler = createLeakSampler({ read: reader([0, 4]), source: null, metric: null, startedAt: 0 });
    await sampler.takeBaseline();
    const settling = sampler.settle(60_000, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await settling;
    expect(sampler.report().verdict).toBe('unknown');
  });
});
