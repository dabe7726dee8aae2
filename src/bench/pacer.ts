/**
 * Actions at a steady rate from a loop whose turns come late: each turn takes what is due
 * since the previous one, from the clock, not from the turn's nominal length (a loop that
 * sleeps 100 ms and works a few more would otherwise fall ~5 % short of every rate).
 */

/** Paces actions per second over irregular turns. */
export interface Pacer {
  /** How many actions are due at `now` (performance.now()) since the previous call; the first call starts the clock. */
  due(now: number): number;
}

/**
 * Creates a pacer for `perSecond` actions. A gap longer than `maxCatchUpMs` (the process
 * stalled) is counted as that long: the rate resumes instead of firing a burst to catch up.
 */
export function createPacer(perSecond: number, maxCatchUpMs = 1_000): Pacer {
  let lastAt: number | undefined;
  let credit = 0;
  return {
    due(now) {
      const elapsed = lastAt === undefined ? 0 : Math.min(maxCatchUpMs, Math.max(0, now - lastAt));
      lastAt = now;
      credit += (perSecond * elapsed) / 1000;
      const whole = Math.floor(credit);
      credit -= whole;
      return whole;
    },
  };
}
