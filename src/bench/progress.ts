/**
 * Live progress of a bench run: a snapshot every second (k6's flushers), never one call per
 * event. The meter keeps what a rate needs between two snapshots.
 */
import type { DeliveryTracker } from '../metrics/delivery-tracker.js';
import type { FleetCounters } from './fleet-counters.js';
import type { LeakSampler } from './leak.js';

/** The phases of a run, in order. */
export const BENCH_PHASES = ['ramp-up', 'steady', 'draining', 'settling'] as const;
export type BenchPhase = (typeof BENCH_PHASES)[number];

/** A periodic snapshot for live progress. */
export interface BenchProgress {
  readonly phase: BenchPhase;
  readonly elapsedMs: number;
  readonly open: number;
  readonly planned: number;
  readonly eventsPerSecond: number;
  readonly delivered: number;
  readonly lost: number;
  readonly published: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly reconnects: number;
  readonly server: number | undefined;
}

/** What a snapshot is read from. */
export interface ProgressSources {
  readonly startedAt: number;
  readonly planned: number;
  readonly counters: FleetCounters;
  readonly tracker: DeliveryTracker;
  readonly latency: { readonly p99Ms: number };
  readonly leak: LeakSampler;
  readonly published: () => number;
}

/** Creates the meter; each `snapshot` measures the event rate since the previous one. */
export function createProgressMeter(sources: ProgressSources): { snapshot(phase: BenchPhase): BenchProgress } {
  let lastEvents = 0;
  let lastAt = performance.now();
  return {
    snapshot(phase) {
      const now = performance.now();
      const received = sources.counters.eventsReceived;
      const eventsPerSecond = ((received - lastEvents) * 1000) / Math.max(1, now - lastAt);
      lastEvents = received;
      lastAt = now;
      return {
        phase,
        elapsedMs: now - sources.startedAt,
        open: sources.tracker.openCount,
        planned: sources.planned,
        eventsPerSecond,
        delivered: sources.tracker.delivered,
        lost: sources.tracker.lost,
        published: sources.published(),
        p99Ms: sources.latency.p99Ms,
        errors: sources.counters.errorTotal,
        reconnects: sources.counters.reconnectTotal,
        server: sources.leak.latest,
      };
    },
  };
}
