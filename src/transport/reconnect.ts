/**
 * The reconnect policy (CONTRACTS §1, §2): the server's `retry:` field first, then the
 * `X-Reconnect-Delay` header (ms, seed 000), otherwise exponential backoff with jitter capped
 * at 30 s and reset after a successful open (seed 001).
 */

/** The smallest and largest `retry:` honoured. A hostile `retry: 99999999999` would overflow
 * setTimeout (anything over 2^31-1 ms fires after 1 ms) and turn into a hot loop; a `retry: 0`
 * from a server that closes at once would too. */
export const RETRY_MIN_MS = 100;
export const RETRY_MAX_MS = 600_000;

/** Clamps a server-provided delay to [RETRY_MIN_MS, RETRY_MAX_MS]. */
export function clampServerDelay(ms: number): number {
  if (!Number.isFinite(ms)) return RETRY_MAX_MS;
  return Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, Math.round(ms)));
}

/** Options for `createReconnectPolicy`. */
export interface ReconnectPolicyOptions {
  /** First backoff delay in ms (default 500). */
  readonly initialMs?: number;
  /** Backoff cap in ms (default 30 000). */
  readonly maxMs?: number;
  /** Random source in [0, 1), injected by tests. */
  readonly random?: () => number;
}

/** Where a delay came from, for the status line. */
export type DelaySource = 'retry' | 'header' | 'retry-after' | 'backoff';

/** The policy's state for one logical stream. */
export interface ReconnectPolicy {
  /** A `retry:` field arrived (persists across connections, as in browsers). */
  setServerRetry(ms: number): void;
  /** Response headers of a successful open: `X-Reconnect-Delay`. */
  setHeaderDelay(ms: number | undefined): void;
  /** The stream opened: the backoff starts over. */
  onOpen(): void;
  /** The delay before the next attempt. `minimumMs` (e.g. a 503's Retry-After) is a floor. */
  nextDelay(minimumMs?: number): { delayMs: number; source: DelaySource };
  /** Consecutive attempts since the last successful open. */
  readonly failures: number;
}

/** Creates a reconnect policy. */
export function createReconnectPolicy(options: ReconnectPolicyOptions = {}): ReconnectPolicy {
  const initialMs = Math.max(1, options.initialMs ?? 500);
  const maxMs = Math.max(initialMs, options.maxMs ?? 30_000);
  const random = options.random ?? Math.random;
  let serverRetryMs: number | undefined;
  let headerDelayMs: number | undefined;
  let failures = 0;

  // Equal jitter: half fixed, half random, so retries spread out but never collapse to zero.
  const backoff = (baseMs: number, step: number, capMs: number): number => {
    const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, step - 1));
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  };

  // It keeps failing after a server hint: back off from the hint rather than hammer at a fixed
  // rate, but never come sooner than the hint (issue 11: after `X-Reconnect-Delay: 3000` the
  // second reconnect came after 1.7 s, because equal jitter put half the range below the hint).
  // Step 2 draws from [hint, 2·hint], step 3 from [2·hint, 4·hint], up to the cap.
  const backoffAboveHint = (hint: number, step: number): number => Math.max(hint, backoff(Math.max(hint, initialMs), step, Math.max(maxMs, hint)));

  return {
    setServerRetry(ms) {
      serverRetryMs = clampServerDelay(ms);
    },
    setHeaderDelay(ms) {
      headerDelayMs = ms === undefined ? undefined : clampServerDelay(ms);
    },
    onOpen() {
      failures = 0;
    },
    nextDelay(minimumMs) {
      failures += 1;
      const hint = serverRetryMs ?? headerDelayMs;
      let result: { delayMs: number; source: DelaySource };
      if (hint !== undefined && failures === 1) {
        // WHATWG SSE: the first reconnect after a drop waits the reconnection time, exactly.
        result = { delayMs: hint, source: serverRetryMs !== undefined ? 'retry' : 'header' };
      } else if (hint !== undefined) {
        result = { delayMs: backoffAboveHint(hint, failures), source: 'backoff' };
      } else {
        result = { delayMs: backoff(initialMs, failures, maxMs), source: 'backoff' };
      }
      if (minimumMs !== undefined && minimumMs > result.delayMs) result = { delayMs: clampServerDelay(minimumMs), source: 'retry-after' };
      return result;
    },
    get failures() {
      return failures;
    },
  };
}
