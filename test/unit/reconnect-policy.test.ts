import { describe, expect, it } from 'vitest';
import { clampServerDelay, createReconnectPolicy, RETRY_MAX_MS, RETRY_MIN_MS } from '../../src/transport/reconnect.js';

describe('reconnect policy', () => {
  it('backs off exponentially with equal jitter, capped', () => {
    const policy = createReconnectPolicy({ initialMs: 100, maxMs: 1000, random: () => 1 });
    expect([1, 2, 3, 4, 5, 6].map(() => policy.nextDelay().delayMs)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('puts half of each delay under jitter', () => {
    const low = createReconnectPolicy({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect([1, 2, 3].map(() => low.nextDelay().delayMs)).toEqual([50, 100, 200]);
  });

  it('starts over after a successful open (seed 001)', () => {
    const policy = createReconnectPolicy({ initialMs: 100, random: () => 1 });
    policy.nextDelay();
    policy.nextDelay();
    policy.onOpen();
    expect(policy.failures).toBe(0);
    expect(policy.nextDelay().delayMs).toBe(100);
  });

  it('honours retry: first, then X-Reconnect-Delay', () => {
    const policy = createReconnectPolicy({ random: () => 1 });
    policy.setHeaderDelay(3000);
    expect(policy.nextDelay()).toEqual({ delayMs: 3000, source: 'header' });
    policy.onOpen();
    policy.setServerRetry(1500);
    expect(policy.nextDelay()).toEqual({ delayMs: 1500, source: 'retry' });
  });

  it('backs off from the hint when reconnects keep failing', () => {
    const policy = createReconnectPolicy({ initialMs: 100, maxMs: 30_000, random: () => 1 });
    policy.setServerRetry(1000);
    expect([1, 2, 3].map(() => policy.nextDelay().delayMs)).toEqual([1000, 2000, 4000]);
  });

  it('never reconnects sooner than the server hint, whatever the jitter draws (issue 11)', () => {
    for (const draw of [0, 0.25, 0.5, 0.99]) {
      const header = createReconnectPolicy({ initialMs: 500, maxMs: 30_000, random: () => draw });
      header.setHeaderDelay(3000);
      const headerDelays = [1, 2, 3, 4].map(() => header.nextDelay().delayMs);
      for (const d of headerDelays) expect(d, `draw ${draw}: ${headerDelays.join(', ')}`).toBeGreaterThanOrEqual(3000);
      const retry = createReconnectPolicy({ initialMs: 500, maxMs: 2000, random: () => draw });
      retry.setServerRetry(1500);
      // A cap below twice the hint still keeps the hint as the floor.
      for (const d of [1, 2, 3].map(() => retry.nextDelay().delayMs)) expect(d).toBeGreaterThanOrEqual(1500);
    }
  });

  it('reconnects exactly after the hint again once a stream opened', () => {
    const policy = createReconnectPolicy({ random: () => 0 });
    policy.setHeaderDelay(3000);
    policy.nextDelay();
    policy.nextDelay();
    policy.onOpen();
    expect(policy.nextDelay()).toEqual({ delayMs: 3000, source: 'header' });
  });

  it('clamps a hostile retry so it can neither overflow setTimeout nor spin', () => {
    expect(clampServerDelay(99_999_999_999)).toBe(RETRY_MAX_MS);
    expect(clampServerDelay(0)).toBe(RETRY_MIN_MS);
    expect(clampServerDelay(Number.POSITIVE_INFINITY)).toBe(RETRY_MAX_MS);
    const policy = createReconnectPolicy();
    policy.setServerRetry(99_999_999_999);
    expect(policy.nextDelay().delayMs).toBe(RETRY_MAX_MS);
  });

  it('uses a Retry-After floor when it is longer', () => {
    const policy = createReconnectPolicy({ initialMs: 100, random: () => 1 });
    expect(policy.nextDelay(5000)).toEqual({ delayMs: 5000, source: 'retry-after' });
  });
});
