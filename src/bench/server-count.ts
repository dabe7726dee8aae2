/**
 * Where the bench reads the server's open-stream count: the scenario's `serverStats` (a
 * Prometheus metric, a JSON path, or a status-page key), through the shared server-stats layer,
 * with its own credentials: `serverStats.auth` / `--server-stats-token` and
 * `--server-stats-header`, or, for a stats URL on the streams' origin, the streams' own
 * (virtual user 0's). Every read either gives the number or throws a typed error: the first
 * read, before any client starts, turns a 403 or a typo into one line and an exit code instead
 * of a full run that ends "not measured".
 */
import type { Dispatcher } from 'undici';
import { HttpStatusError, ProtocolError, UsageError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { fetchServerStats, nearestFigureNames, selectFigure } from '../server-stats/read-stats.js';
import { credentialsFor } from '../transport/identity.js';
import { createLeakSampler, type LeakSampler, type ReadServerCount } from './leak.js';
import { resolveAgainst, type BenchPlan } from './scenario.js';

/** Builds the reader for a plan, or undefined when the plan reads no server figure. */
export async function createServerCountReader(plan: BenchPlan, dispatcher: Dispatcher, headers: Readonly<Record<string, string>> = {}): Promise<ReadServerCount | undefined> {
  const statsPlan = plan.serverStats;
  if (statsPlan === undefined) return undefined;
  const url = new URL(resolveAgainst(plan.target, statsPlan.url));
  const streamOrigin = new URL(resolveAgainst(plan.target, plan.streams[0] ?? '/')).origin;
  const auth = statsPlan.auth ?? (url.origin === streamOrigin ? plan.auth : undefined);
  const credentials = await credentialsFor(auth, 0);
  const where = redactUrl(url, credentials.token?.queryName === undefined ? [] : [credentials.token.queryName]);
  return async () => {
    let stats;
    try {
      stats = await fetchServerStats(url, {
        headers: { ...headers, ...statsPlan.headers },
        token: credentials.token,
        dispatcher,
        timeoutMs: 2_000,
        ...(statsPlan.format === undefined ? {} : { format: statsPlan.format }),
      });
    } catch (error) {
      // The URL answered but not with stats: a configuration mistake, said as one.
      if (error instanceof ProtocolError) throw new UsageError(`--server-stats ${where}: not a stats endpoint: ${error.message}`, { hint: error.hint ?? 'point --server-stats at the Prometheus /metrics, a JSON stats URL or a status page' });
      if (error instanceof HttpStatusError && (error.status === 401 || error.status === 403)) {
        const sent = credentials.token === undefined ? 'no token was sent' : 'the token sent was not enough';
        throw new HttpStatusError(error.status, `server stats refused: ${error.message}`, { serverCode: error.serverCode, hint: `${sent}: give the stats their own credentials with --server-stats-token (SSEKIT_SERVER_STATS_TOKEN), --server-stats-header, or serverStats.auth in the scenario (seed 002's stats want a superadmin)` });
      }
      throw error;
    }
    const value = selectFigure(stats, statsPlan.metric);
    if (value === undefined) {
      const nearest = nearestFigureNames(stats, statsPlan.metric);
      const why = stats.warning ?? (nearest.length === 0 ? undefined : `nearest: ${nearest.join(', ')}`);
      throw new UsageError(`--server-metric '${statsPlan.metric}' is not in ${where}${why === undefined ? '' : `; ${why}`}`, { hint: `list what the server reports with: ssekit stats ${where}` });
    }
    return value;
  };
}

/** The leak sampler of a plan's server figure: its source (redacted) and metric named for the report. */
export function createPlanLeakSampler(plan: BenchPlan, read: ReadServerCount | undefined, startedAt: number): LeakSampler {
  const stats = plan.serverStats;
  return createLeakSampler({ read, source: stats === undefined ? null : redactUrl(resolveAgainst(plan.target, stats.url)), metric: stats?.metric ?? null, startedAt });
}
