/**
 * Per-user stream limits across the workers of one `serve --workers` (CONTRACTS §1: one stream
 * per admin; §5: five per user): the primary keeps every key's holders (`cluster/limits.ts`) and
 * decides each open with the same rule as one process (`decideLimit`), so a limit is exact for
 * the whole server, not per worker. Costs one IPC round trip per limited open; `close-oldest`
 * evictions go to whichever worker holds the oldest stream.
 */
import type { StreamLimiter } from '../stream-limits.js';
import type { WorkerLink } from './worker-link.js';

/** The limiter of one worker; `evict` ends a stream of this worker by id. */
export function createClusterLimiter(link: WorkerLink, evict: (holder: number) => void): StreamLimiter {
  link.handlers.evict = evict;
  return {
    acquire: async (limit, holder) => {
      await link.request({ op: 'acquire', key: limit.key, max: limit.max, policy: limit.policy, holder });
    },
    release: (key, holder) => link.send({ t: 'release', key, holder }),
  };
}
