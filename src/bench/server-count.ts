/**
 * Where the bench reads the server's open-stream count: the scenario's `serverStats` (a
 * Prometheus metric, a JSON path, or a status-page key), through the shared server-stats layer.
 */
import type { Dispatcher } from 'undici';
import { fetchServerStats, selectFigure } from '../server-stats/read-stats.js';
import { credentialsFor } from './identities.js';
import type { ReadServerCount } from './leak.js';
import { resolveAgainst, type BenchPlan } from './scenario.js';

/** Builds the reader for a plan, or undefined when the plan reads no server figure. */
export async function createServerCountReader(plan: BenchPlan, dispatcher: Dispatcher, headers: Readonly<Record<string, string>> = {}): Promise<ReadServerCount | undefined> {
  const statsPlan = plan.serverStats;
  if (statsPlan === undefined) return undefined;
  const credentials = await credentialsFor(statsPlan.auth, 0);
  const url = new URL(resolveAgainst(plan.target, statsPlan.url));
  return async () => {
    const stats = await fetchServerStats(url, {
      headers,
      token: credentials.token,
      dispatcher,
      timeoutMs: 2_000,
      ...(statsPlan.format === undefined ? {} : { format: statsPlan.format }),
    });
    return selectFigure(stats, statsPlan.metric);
  };
}
