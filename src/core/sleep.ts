/** Waits `ms`; resolves `false` instead when `signal` aborts first (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits for `promise` or for `signal` to abort, whichever comes first; false when aborted. */
export function settleOrAbort(promise: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(false);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      },
    );
  });
}

/**
 * Polls `isDone` every `intervalMs` until it holds (true), `timeoutMs` passes (false) or
 * `signal` aborts (false). For waits on state that many callbacks change (streams opening), where
 * a promise per change would cost more than a poll.
 */
export async function waitUntil(isDone: () => boolean, options: { readonly timeoutMs: number; readonly intervalMs?: number; readonly signal: AbortSignal }): Promise<boolean> {
  const deadline = performance.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 20;
  for (;;) {
    if (isDone()) return true;
    const leftMs = deadline - performance.now();
    if (leftMs <= 0) return false;
    if (!(await sleep(Math.min(intervalMs, leftMs), options.signal))) return false;
  }
}
