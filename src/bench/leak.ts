/**
 * Server-side connection-leak detection. The server's own count of open streams is sampled
 * every second beside ssekit's real count; after the run every stream is closed, and after a
 * grace period the server's count is compared with its count before the run. An excess is a
 * leak (seed 003's registry that never unregisters; CONTRACTS §2's duplicate connections).
 */
import { sleep } from '../core/sleep.js';
import type { LeakReport, ServerSample } from '../metrics/bench-result.js';

/** Reads the server's count of open streams; undefined when the read failed. */
export type ReadServerCount = () => Promise<number | undefined>;

/** The sampler for one run. */
export interface LeakSampler {
  /** Reads the count before any stream opens. */
  takeBaseline(): Promise<void>;
  /** Samples every `intervalMs` until `stopSampling`. */
  startSampling(clientCount: () => number): void;
  stopSampling(): Promise<void>;
  /** After every stream closed: polls until the count is back to the baseline or the grace ends. */
  settle(graceMs: number, signal: AbortSignal): Promise<void>;
  report(): LeakReport;
  /** The latest server figure (progress display). */
  readonly latest: number | undefined;
}

/** Creates the sampler; without `read` it reports verdict `unknown`. */
export function createLeakSampler(options: { read?: ReadServerCount | undefined; source: string | null; metric: string | null; intervalMs?: number; startedAt: number }): LeakSampler {
  const { read, startedAt } = options;
  const intervalMs = options.intervalMs ?? 1000;
  const samples: ServerSample[] = [];
  let baseline: number | undefined;
  let final: number | undefined;
  let latest: number | undefined;
  let graceMs = 0;
  // Settling ended by Ctrl-C before the count came back: an excess then proves nothing.
  let isCutShort = false;
  let timer: NodeJS.Timeout | undefined;
  let isReading = false;
  let pendingRead: Promise<unknown> = Promise.resolve();
  // Samples taken while the fleet ran (the rest come from settling, with no client open).
  let runSampleCount = 0;

  const readSafe = async (): Promise<number | undefined> => {
    if (read === undefined) return undefined;
    try {
      const value = await read();
      if (value !== undefined) latest = value;
      return value;
    } catch {
      return undefined;
    }
  };

  return {
    async takeBaseline() {
      baseline = await readSafe();
    },
    startSampling(clientCount) {
      if (read === undefined) return;
      timer = setInterval(() => {
        if (isReading) return;
        isReading = true;
        const client = clientCount();
        pendingRead = readSafe().then((server) => {
          isReading = false;
          samples.push({ tMs: Math.round(performance.now() - startedAt), server: server ?? null, client });
        });
      }, intervalMs);
      timer.unref();
    },
    async stopSampling() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      // A read still in flight belongs to the run, not to the settle phase after it.
      await pendingRead;
      runSampleCount = samples.length;
    },
    async settle(grace, signal) {
      graceMs = grace;
      if (read === undefined) return;
      const deadline = performance.now() + grace;
      for (;;) {
        final = await readSafe();
        samples.push({ tMs: Math.round(performance.now() - startedAt), server: final ?? null, client: 0 });
        if (final !== undefined && baseline !== undefined && final <= baseline) return;
        if (performance.now() >= deadline) return;
        if (!(await sleep(Math.min(250, deadline - performance.now()), signal))) {
          isCutShort = true;
          return;
        }
      }
    },
    report() {
      const known = baseline !== undefined && final !== undefined;
      const leaked = known ? Math.max(0, (final as number) - (baseline as number)) : null;
      let maxDrift: number | null = null;
      if (baseline !== undefined) {
        for (const s of samples.slice(0, runSampleCount)) {
          if (s.server === null) continue;
          const drift = s.server - s.client - baseline;
          if (maxDrift === null || drift > maxDrift) maxDrift = drift;
        }
      }
      return {
        source: options.source,
        metric: options.metric,
        baseline: baseline ?? null,
        final: final ?? null,
        leaked,
        maxDrift,
        graceMs,
        verdict: leaked === null || (leaked > 0 && isCutShort) ? 'unknown' : leaked > 0 ? 'leak' : 'ok',
        samples,
      };
    },
    get latest() {
      return latest;
    },
  };
}
