/**
 * Who this process runs: the virtual users of its shard and the stream each one opens. Shards
 * split the population deterministically (global index g belongs to shard g mod N), so N
 * shards together run exactly the unsharded population.
 */
import { UsageError } from '../core/errors.js';
import { resolveAgainst, type BenchPlan } from './scenario.js';

/** A 1-based shard of a run. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** The clients of one process. Local indexes are 0 … size-1. */
export interface Population {
  readonly size: number;
  /** The origin every stream is on (one undici Client per virtual client connects to it). */
  readonly origin: string;
  /** The virtual user's global index (what `{{vu}}` becomes). */
  globalIndexOf(local: number): number;
  /** Path and query of the client's stream. */
  pathOf(local: number): string;
  /** The client's method and body (`{{vu}}` filled) and the body's Content-Type; undefined for a plain GET. */
  requestOf(local: number): { readonly method: string; readonly body?: string | undefined; readonly contentType?: string | undefined } | undefined;
  /** Per client, 1 when published events are expected there (`publish.expectAt`); undefined = every client. */
  readonly subscribers: Uint8Array | undefined;
}

/** The population of `shard` (undefined: everyone). */
export function createPopulation(plan: BenchPlan, shard: Shard | undefined): Population {
  const globalIndexes: number[] = [];
  for (let g = 0; g < plan.clients; g++) if (shard === undefined || g % shard.count === shard.index - 1) globalIndexes.push(g);
  const streamUrls = plan.streams.map((s) => new URL(resolveAgainst(plan.target, s)));
  const origins = new Set(streamUrls.map((u) => u.origin));
  if (origins.size > 1) throw new UsageError(`all streams must be on one origin (got ${[...origins].join(', ')})`);
  const streamIndexOf = (local: number): number => (globalIndexes[local] as number) % streamUrls.length;
  const expectAt = plan.publish?.expectAt;
  let subscribers: Uint8Array | undefined;
  if (expectAt !== undefined) {
    subscribers = new Uint8Array(globalIndexes.length);
    for (let i = 0; i < globalIndexes.length; i++) subscribers[i] = expectAt.includes(plan.streams[streamIndexOf(i)] as string) ? 1 : 0;
  }
  return {
    size: globalIndexes.length,
    origin: streamUrls[0]?.origin ?? new URL(plan.target).origin,
    globalIndexOf: (local) => globalIndexes[local] as number,
    pathOf(local) {
      const url = streamUrls[streamIndexOf(local)] as URL;
      return `${url.pathname}${url.search}`;
    },
    requestOf(local) {
      const spec = plan.streamRequests?.[streamIndexOf(local)];
      if (spec === undefined) return undefined;
      const vu = String(globalIndexes[local] as number);
      return { method: spec.method, body: spec.body?.split('{{vu}}').join(vu), contentType: spec.contentType };
    },
    subscribers,
  };
}
