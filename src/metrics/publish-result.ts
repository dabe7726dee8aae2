/**
 * The publish result (`publish --json`, `publish -o result.json`), schema version 1: what was
 * sent, what arrived, latency as the same histogram blocks as a bench result (so `stats report`
 * and `stats compare` read both kinds), the gate's verdict and one outcome per event.
 */
import type { EndReason } from '../core/end-reason.js';
import type { HistogramBlock } from './histogram.js';
import type { SelfLag } from './self-lag.js';

/** The schema version of publish results. */
export const PUBLISH_RESULT_SCHEMA_VERSION = 1;

/** A latency statistic the gate can check. */
export const GATE_STATS = ['p50', 'p90', 'p95', 'p99', 'p999', 'max', 'mean'] as const;
export type GateStat = (typeof GATE_STATS)[number];

/** One event's outcome, reported as soon as it is complete or timed out. */
export interface PublishedEvent {
  readonly seq: number;
  /** When it was due, ms since the run started (for latency over time). */
  readonly atMs?: number;
  /** The producer's id (id correlation) or the marker. */
  readonly id: string;
  /** Time until the last listener had it, from the scheduled send time, ms (NaN when none did). */
  readonly latencyMs: number;
  /** The producer call's own duration, ms. */
  readonly callMs: number;
  readonly delivered: number;
  readonly expected: number;
  readonly error?: string | undefined;
}

/** The whole result. */
export interface PublishResult {
  readonly schemaVersion: typeof PUBLISH_RESULT_SCHEMA_VERSION;
  readonly kind: 'publish';
  readonly tool: { readonly name: 'ssekit'; readonly version: string };
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly endReason: EndReason;
  /** Where events were published, redacted. */
  readonly producer: string;
  /** Watching connections (streams × listeners). */
  readonly watchers: number;
  readonly sent: number;
  readonly producerErrors: number;
  /** (event, watcher) pairs expected, delivered, never seen within the timeout, seen twice. */
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Delivery latency per (event, watcher), from each event's scheduled send time. */
  readonly latency: HistogramBlock;
  /** The producer calls' own durations. */
  readonly callLatency: HistogramBlock;
  readonly targetMs: number;
  readonly gate: GateStat;
  /** The gate statistic's value, ms; null without deliveries. */
  readonly gateValueMs: number | null;
  /** Why the verdict failed (empty when passed). */
  readonly failures: readonly string[];
  /** ssekit's own event-loop lag and CPU share over the run. */
  readonly self?: SelfLag;
  readonly events: readonly PublishedEvent[];
}
