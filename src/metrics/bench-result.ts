/**
 * The bench result file (`--out result.json`), schema version 1. Written for every end reason
 * (passed, failed, interrupted). Histograms are HdrHistogram's compressed base64 encoding of
 * microsecond values, so results can be merged exactly (`ssekit stats merge`) and compared.
 * camelCase; durations in ms unless the name says otherwise. Documented in the README.
 */
import { decodeLatencyHistogram, summaryStatMs, type HistogramBlock } from './histogram.js';
import type { ThresholdFigures, ThresholdVerdict } from './thresholds.js';

/** The current schema version. */
export const RESULT_SCHEMA_VERSION = 1;

/** One sample of the leak detector: the server's count of open streams beside ours. */
export interface ServerSample {
  /** ms since the run started. */
  readonly tMs: number;
  /** The server's figure; null when the read failed. */
  readonly server: number | null;
  /** Streams ssekit really had open. */
  readonly client: number;
}

/** The leak detector's findings. */
export interface LeakReport {
  /** Where the figure came from (URL redacted) and which figure. */
  readonly source: string | null;
  readonly metric: string | null;
  /** The server's count before the run, after the run and a grace period. */
  readonly baseline: number | null;
  readonly final: number | null;
  /** final − baseline, floored at 0; null when unknown. */
  readonly leaked: number | null;
  /** Largest (server − client − baseline) seen during the run. */
  readonly maxDrift: number | null;
  readonly graceMs: number;
  readonly verdict: 'ok' | 'leak' | 'unknown';
  readonly samples: readonly ServerSample[];
}

/** The whole result file. */
export interface BenchResult {
  readonly schemaVersion: typeof RESULT_SCHEMA_VERSION;
  readonly kind: 'bench';
  readonly tool: { readonly name: 'ssekit'; readonly version: string };
  /** Name and content hash of the plan (shards of one run share them; merge checks this). */
  readonly scenario: { readonly name: string; readonly hash: string };
  readonly runId: string;
  /** 1-based shard index and count, when sharded. */
  readonly shard: { readonly index: number; readonly count: number } | null;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationMs: number;
  readonly endReason: 'passed' | 'failed' | 'interrupted';
  /** Base URL of the target, redacted. */
  readonly target: string;
  readonly clients: {
    readonly planned: number;
    readonly peakOpen: number;
    /** Successful opens, first connects and reconnects together. */
    readonly opens: number;
  };
  readonly connect: { readonly headers: HistogramBlock; readonly firstEvent: HistogramBlock };
  /** Delivery latency per (event, client), from each event's scheduled send time. */
  readonly latency: HistogramBlock;
  readonly events: {
    /** Events this process published (its shard's share). */
    readonly published: number;
    readonly publishErrors: number;
    /** (event, client) pairs expected: clients open when the event was published. */
    readonly expectedDeliveries: number;
    readonly delivered: number;
    /** Expected, the client stayed connected, and it never arrived within the timeout. */
    readonly lost: number;
    readonly duplicated: number;
    readonly outOfOrder: number;
    /** Arrived after a reconnect, through Last-Event-ID replay. */
    readonly recovered: number;
    /** Expected, but the client was reconnecting and it never arrived (no replay). */
    readonly missedDuringReconnect: number;
    /** Every event received (heartbeats included), and bytes. */
    readonly received: number;
    readonly bytesReceived: number;
  };
  readonly reconnects: { readonly total: number; readonly byReason: Readonly<Record<string, number>> };
  /** HTTP statuses of stream requests, by code. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: { readonly total: number; readonly byClass: Readonly<Record<string, number>> };
  readonly leak: LeakReport;
  /** The bench process itself. */
  readonly self: {
    readonly cpuUserMs: number;
    readonly cpuSystemMs: number;
    readonly maxRssBytes: number;
    readonly heapUsedBytes: number;
    readonly socketsAtStart: number | null;
    readonly socketsAtEnd: number | null;
  };
  readonly thresholds: readonly ThresholdVerdict[];
}

/**
 * The figures thresholds are judged on, read from a result: bench judges its own run with it
 * and `stats merge` re-judges merged shards with it, so both agree by construction.
 */
export function thresholdFiguresOf(result: Omit<BenchResult, 'thresholds' | 'endReason'>): ThresholdFigures {
  const blocks = { latency: result.latency, connect: result.connect.headers, firstEvent: result.connect.firstEvent } as const;
  const e = result.events;
  const hasPublish = e.published + e.publishErrors > 0 || e.expectedDeliveries > 0;
  const attempts = result.clients.opens + result.errors.total;
  return {
    latency: (group, stat) => latencyStatMs(blocks[group], stat),
    count: (name) => {
      switch (name) {
        case 'loss':
          return hasPublish ? { value: e.lost, total: e.expectedDeliveries } : undefined;
        case 'leaks':
          return result.leak.leaked === null ? undefined : { value: result.leak.leaked, total: Math.max(1, result.clients.peakOpen) };
        case 'errors':
          return { value: result.errors.total, total: attempts };
        case 'duplicates':
          return { value: e.duplicated, total: e.expectedDeliveries };
        case 'reconnects':
          return { value: result.reconnects.total, total: attempts };
        case 'outOfOrder':
          return { value: e.outOfOrder, total: e.expectedDeliveries };
        case 'producerErrors':
          return hasPublish ? { value: e.publishErrors, total: e.published } : undefined;
        default:
          return undefined;
      }
    },
  };
}

/** A statistic (`p99`, `p999`, `p75`, `max`, `mean`, `min`) of a histogram block, in ms; NaN without samples. */
export function latencyStatMs(block: HistogramBlock, stat: string): number {
  const named = summaryStatMs(block.summary, stat);
  if (named !== undefined) return named;
  // Other percentiles come from the histogram itself (p75 → 75, p9999 → 99.99).
  const digits = stat.slice(1);
  const percentile = Number(digits.length <= 2 ? digits : `${digits.slice(0, 2)}.${digits.slice(2)}`);
  return block.summary.count === 0 || !Number.isFinite(percentile) ? Number.NaN : decodeLatencyHistogram(block.hdr).percentileMs(percentile);
}
