/**
 * Per-user stream limits (CONTRACTS §1: one stream per admin; §5: five per user, 409
 * `stream_limit`). The hub asks a `StreamLimiter` for a place before it registers a stream and
 * gives the place back when the stream ends. This file is the one-process limiter; with
 * `--workers` the primary process holds the same bookkeeping for every worker
 * (`cluster/limits.ts`), so a limit holds across the whole server, not per worker.
 */
import { HttpError } from './http.js';
import type { StreamLimit } from './hub-stream.js';

/** Places under per-user limits, by stream id. */
export interface StreamLimiter {
  /**
   * Takes a place for stream `holder` under `limit`. Over the limit, `reject` throws HttpError
   * 409 `stream_limit`; `close-oldest` has the oldest holders ended (through the `evict`
   * callback the limiter was built with) and then admits `holder`.
   */
  readonly acquire: (limit: StreamLimit, holder: number) => void | Promise<void>;
  /** Gives back `holder`'s place; unknown holders (already evicted) are ignored. */
  readonly release: (key: string, holder: number) => void;
}

/** The 409 every limiter answers over a `reject` limit. */
function streamLimitError(max: number): HttpError {
  return new HttpError(409, 'stream_limit', `at most ${max} stream(s) per user`);
}

/**
 * The shared rule, on one key's holder list (mutated): admit, evict the oldest, or throw 409.
 * Used by the one-process limiter and by the cluster primary.
 */
export function decideLimit<T>(holders: T[], limit: StreamLimit, holder: T): { evicted: T[] } {
  if (holders.length < limit.max) {
    holders.push(holder);
    return { evicted: [] };
  }
  if (limit.policy === 'reject') throw streamLimitError(limit.max);
  // close-oldest: make room for the newcomer (a client reconnecting after a drop the server has
  // not noticed yet must not be locked out by its own ghost, README "serve").
  const evicted = holders.splice(0, holders.length - limit.max + 1);
  holders.push(holder);
  return { evicted };
}

/** The one-process limiter; `evict` ends a stream of this process by id. */
export function createLocalStreamLimiter(evict: (holder: number) => void): StreamLimiter {
  const byKey = new Map<string, number[]>();
  return {
    acquire(limit, holder) {
      const holders = byKey.get(limit.key) ?? [];
      const { evicted } = decideLimit(holders, limit, holder);
      byKey.set(limit.key, holders);
      for (const id of evicted) evict(id);
    },
    release(key, holder) {
      const holders = byKey.get(key);
      if (holders === undefined) return;
      const index = holders.indexOf(holder);
      if (index !== -1) holders.splice(index, 1);
      if (holders.length === 0) byKey.delete(key);
    },
  };
}
