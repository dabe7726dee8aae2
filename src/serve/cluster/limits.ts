/**
 * The primary's side of cross-worker stream limits: every key's holders as (worker, stream id),
 * oldest first. Single-threaded, so decisions are serialised and exact.
 */
import { decideLimit } from '../stream-limits.js';
import type { StreamLimit } from '../hub-stream.js';

/** A stream of one worker. */
export interface LimitHolder {
  readonly worker: number;
  readonly holder: number;
}

/** Every limited stream of the server. */
export class ClusterLimits {
  private readonly byKey = new Map<string, LimitHolder[]>();

  /** Admits `holder` or throws 409 (HttpError); returns the holders to evict (close-oldest). */
  acquire(limit: StreamLimit, holder: LimitHolder): LimitHolder[] {
    const holders = this.byKey.get(limit.key) ?? [];
    const { evicted } = decideLimit(holders, limit, holder);
    this.byKey.set(limit.key, holders);
    return evicted;
  }

  release(key: string, holder: LimitHolder): void {
    const holders = this.byKey.get(key);
    if (holders === undefined) return;
    const index = holders.findIndex((entry) => entry.worker === holder.worker && entry.holder === holder.holder);
    if (index !== -1) holders.splice(index, 1);
    if (holders.length === 0) this.byKey.delete(key);
  }

  /** A worker died: its streams are gone. */
  forgetWorker(worker: number): void {
    for (const [key, holders] of this.byKey) {
      const kept = holders.filter((entry) => entry.worker !== worker);
      if (kept.length === 0) this.byKey.delete(key);
      else this.byKey.set(key, kept);
    }
  }
}
