/** The churn pacer: the rate asked for, from a loop whose turns come late or stall. */
import { describe, expect, it } from 'vitest';
import { createPacer } from '../../src/bench/pacer.js';

/** Sum of what is due over turns at the given times (ms). */
function totalDue(perSecond: number, times: readonly number[], maxCatchUpMs?: number): number {
  const pacer = createPacer(perSecond, maxCatchUpMs);
  return times.reduce((sum, t) => sum + pacer.due(t), 0);
}

describe('pacer', () => {
  it('gives the requested rate when every turn is 5 ms late (a 100 ms loop that also works)', () => {
    // 1,000 per second for 10 s, turns every 105 ms: 10,000 due, not the 9,524 that counting
    // 100 ms per turn would give.
    const times = Array.from({ length: 96 }, (_, i) => 1_000 + i * 105);
    const span = (times.at(-1) as number) - (times[0] as number);
    expect(totalDue(1_000, times)).toBe(Math.floor(span));
  });

  it('starts the clock at the first turn', () => {
    const pacer = createPacer(1_000);
    expect(pacer.due(5_000)).toBe(0);
    expect(pacer.due(5_100)).toBe(100);
  });

  it('keeps fractions: 0.3 per second over 10 s is 3', () => {
    const times = Array.from({ length: 101 }, (_, i) => i * 100);
    expect(totalDue(0.3, times)).toBe(3);
  });

  it('counts a stall as at most the catch-up span, so the rate resumes without a burst', () => {
    expect(totalDue(100, [0, 100, 5_100, 5_200])).toBe(10 + 100 + 10);
    expect(totalDue(100, [0, 100, 5_100], 10_000)).toBe(510);
  });

  it('gives nothing for a clock that goes back', () => {
    expect(totalDue(1_000, [1_000, 900, 1_000])).toBe(100);
  });
});
