/**
 * Peers over the primary: `gather` asks the primary, which asks every live worker (this one
 * included) and answers with what came back within its deadline.
 */
import { PeerCollectors, type ServePeers } from '../peers.js';
import type { WorkerLink } from './worker-link.js';

/** The peers of one worker; it takes over the link's `collect` push handler. */
export function createClusterPeers(link: WorkerLink): ServePeers {
  const collectors = new PeerCollectors();
  link.handlers.collect = (kind) => collectors.collect(kind);
  return {
    worker: link.worker,
    register: (kind, collect) => collectors.register(kind, collect),
    gather: (kind) => link.gather(kind),
  };
}
