/**
 * ssekit's own saturation: how late its event loop ran (`perf_hooks.monitorEventLoopDelay`)
 * and how much of one core it used, over a run. A load tester that overloads itself measures
 * its own lag and reports it as the server's latency and loss; with these figures the result
 * says so instead (Locust warns about its own CPU the same way).
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** The figures, ms; `cpuShare` is CPU time over wall time (1 = one core busy all the time). */
export interface SelfLag {
  readonly eventLoopDelay: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly cpuShare: number;
}

/** A running monitor. */
export interface SelfLagMonitor {
  /** The worst lag since the previous call, ms (for time series). */
  intervalMaxMs(): number;
  /** Stops and reads the figures (idempotent: later calls return the same). */
  stop(): SelfLag;
}

/** How often the loop is sampled, ms: fine enough for a 10 ms lag, cheap enough for the hot path. */
const RESOLUTION_MS = 10;

/** Starts measuring now. */
export function startSelfLagMonitor(): SelfLagMonitor {
  const histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  histogram.enable();
  // A second one, emptied at every read: the worst lag of each interval.
  const interval: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  interval.enable();
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  let result: SelfLag | undefined;
  return {
    intervalMaxMs() {
      const worst = interval.count === 0 ? 0 : Math.max(0, interval.max / 1e6 - RESOLUTION_MS);
      interval.reset();
      return round(worst);
    },
    stop() {
      if (result !== undefined) return result;
      histogram.disable();
      interval.disable();
      const cpu = process.cpuUsage(cpuAtStart);
      const wallMs = Math.max(1, performance.now() - startedAt);
      // The histogram counts the sampling interval itself: what is over it is the lag.
      const lagMs = (ns: number): number => (histogram.count === 0 ? 0 : Math.max(0, ns / 1e6 - RESOLUTION_MS));
      result = {
        eventLoopDelay: { p50Ms: round(lagMs(histogram.percentile(50))), p99Ms: round(lagMs(histogram.percentile(99))), maxMs: round(lagMs(histogram.max)) },
        cpuShare: round((cpu.user + cpu.system) / 1000 / wallMs),
      };
      return result;
    },
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * When ssekit's own lag could account for the latency it measured: its event loop ran late by
 * more than 20 ms at p99 and by a quarter or more of the delivery latency's p99 (without
 * delivery latency, by 50 ms: the guard's line). One line for the report, or undefined.
 */
export function selfLagDiagnosis(lag: SelfLag | undefined, latencyP99Ms: number): string | undefined {
  if (lag === undefined) return undefined;
  const p99 = lag.eventLoopDelay.p99Ms;
  const isExplaining = Number.isFinite(latencyP99Ms) ? p99 > 20 && p99 >= 0.25 * latencyP99Ms : p99 >= 50;
  if (!isExplaining) return undefined;
  const cpu = lag.cpuShare >= 0.9 ? ` at ${Math.round(lag.cpuShare * 100)} % of a core` : '';
  return `ssekit's own process lagged p99 ${Math.round(p99)} ms${cpu}: these latency figures include ssekit's lag; use fewer clients per process or --workers`;
}
