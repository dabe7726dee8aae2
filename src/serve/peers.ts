/**
 * The processes of one server, as the routes that report on the whole server see them: `/metrics`
 * and the salon's JSON stats ask every worker (`gather`) and merge the answers, each labelled
 * with its worker. One process has one peer, itself, and keeps its single-process output.
 */
import type { PeerAnswer } from './cluster/messages.js';

/** What every worker can be asked for, by kind (`metrics`, `salon-stats`). */
export interface ServePeers {
  /** This process's worker number (1..N) with `--workers`, else undefined. */
  readonly worker: number | undefined;
  /** Answers `gather(kind)` with `collect()` (in this process, for every worker that asks). */
  readonly register: (kind: string, collect: () => unknown) => void;
  /** Every worker's answer for `kind`, this one's included; one that did not answer in time is `isMissing`. */
  readonly gather: (kind: string) => Promise<readonly PeerAnswer[]>;
}

/** The collectors by kind, shared by both implementations. */
export class PeerCollectors {
  private readonly byKind = new Map<string, () => unknown>();

  register(kind: string, collect: () => unknown): void {
    this.byKind.set(kind, collect);
  }

  async collect(kind: string): Promise<unknown> {
    const collect = this.byKind.get(kind);
    if (collect === undefined) throw new Error(`nothing answers '${kind}'`);
    return collect();
  }
}

/** One process: gathering asks only itself (worker 0). */
export function createSoloPeers(): ServePeers {
  const collectors = new PeerCollectors();
  return {
    worker: undefined,
    register: (kind, collect) => collectors.register(kind, collect),
    gather: async (kind) => [{ worker: 0, value: await collectors.collect(kind) }],
  };
}
