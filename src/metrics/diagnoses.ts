/**
 * What a bench result's figures most likely mean, in plain words, most important first: a
 * fleet the server kicked off, a server that lost count of its streams, a check that could not
 * finish. Pure over the result, so `stats merge` says the same of merged shards.
 */
import type { BenchResult } from './bench-result.js';
import { selfLagDiagnosis } from './self-lag.js';

/**
 * A stream the server ends this soon after opening it was not wanted: the server keeps one
 * stream per user and closed this one (or an older one), or ends every stream at once.
 */
export const KICK_WINDOW_MS = 1_000;

/** What the figures most likely mean, in plain words, most important first. */
export function diagnoseBench(result: Omit<BenchResult, 'thresholds' | 'endReason' | 'diagnoses'>): string[] {
  const identity = result.identity;
  const out: string[] = [];
  const kicked = result.reconnects.byReason['kicked'] ?? 0;
  if (kicked > 0) {
    const why =
      identity?.policy === 'shared-subject' || identity?.policy === 'shared-token'
        ? `all clients share one identity (${identity.policy === 'shared-subject' ? `sub ${identity.subject ?? '?'}` : 'one token'}) and the server seems to allow one stream per user: give each client its own (drop --sub, or put {{vu}} in the claims)`
        : 'the server limits streams per user, or ends streams as soon as they open';
    out.push(`the server closed ${kicked} stream${kicked === 1 ? '' : 's'} within ${KICK_WINDOW_MS / 1000} s of opening; ${why}`);
  }
  const { planned, meanOpen } = result.clients;
  if (meanOpen !== null && meanOpen !== undefined && planned > 0 && meanOpen < 0.95 * planned) {
    out.push(`only ${Math.round(meanOpen)} of ${planned} clients stayed open on average (${((100 * meanOpen) / planned).toFixed(1)} %): the figures measure a smaller fleet than planned`);
  }
  const leak = result.leak;
  if (leak.verdict === 'undercount' && leak.minDrift !== null && leak.minDrift !== undefined) {
    out.push(`the server counted up to ${-leak.minDrift} fewer streams than ssekit held: its registry loses track of streams, so its own figures cannot be trusted`);
  }
  if (leak.verdict === 'unknown' && leak.reason !== undefined && leak.source !== null) out.push(`leak check: ${leak.reason}`);
  const lag = result.self.eventLoopDelay === undefined ? undefined : selfLagDiagnosis({ eventLoopDelay: result.self.eventLoopDelay, cpuShare: result.self.cpuShare ?? 0 }, result.latency.summary.p99Ms);
  if (lag !== undefined) out.push(lag);
  const unsettled = result.events.unsettled ?? 0;
  if (unsettled > 0) out.push(`${unsettled} deliveries were still within their timeout when the run was interrupted: unsettled, not counted as lost`);
  return out;
}
