/**
 * The bench result file (`--out result.json`), schema version 2 (version 1 had no `series`;
 * ssekit still reads it). Written for every end reason
 * (passed, failed, interrupted). Histograms are HdrHistogram's compressed base64 encoding of
 * microsecond values, so results can be merged exactly (`ssekit stats merge`) and compared.
 * camelCase; durations in ms unless the name says otherwise. Documented in the README.
 */
import { decodeLatencyHistogram, summaryStatMs, type HistogramBlock } from './histogram.js';
import type { EndReason } from '../core/end-reason.js';
import type { TimeSeries } from './time-series.js';
import type { ThresholdFigures, ThresholdVerdict } from './thresholds.js';

/** The current schema version. */
export const RESULT_SCHEMA_VERSION = 2;
/** Versions `stats` reads. */
export const READABLE_RESULT_SCHEMA_VERSIONS: readonly number[] = [1, 2];

/** One sample of the leak detector: the server's count of open streams beside ours. */
export interface ServerSample {
  /** ms since the run started. */
  readonly tMs: number;
  /** The server's figure; null when the read failed. */
  readonly server: number | null;
  /** Streams ssekit really had open. */
  readonly client: number;
}

/** What the server's count says: no leak, a leak, an undercount, or nothing known. */
export const LEAK_VERDICTS = ['ok', 'leak', 'undercount', 'unknown'] as const;
export type LeakVerdict = (typeof LEAK_VERDICTS)[number];

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
  /** Smallest (server − client − baseline) seen during the run: negative when the server counted fewer streams than ssekit held. */
  readonly minDrift?: number | null;
  /** The most streams the server failed to count while the fleet ran, when it undercounted persistently (verdict `undercount`); 0 otherwise. */
  readonly undercounted?: number | null;
  readonly graceMs: number;
  /** `undercount`: the server counted persistently fewer streams than ssekit held (its registry lost track of them). */
  readonly verdict: LeakVerdict;
  /** Why the verdict is `unknown`: no figure configured, reads failing, or interrupted during settle. */
  readonly reason?: string | undefined;
  readonly samples: readonly ServerSample[];
}

/** The whole result file. */
export interface BenchResult {
  /** 2 for results written now; 1 for files written before time series. */
  readonly schemaVersion: 1 | 2;
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
  readonly endReason: EndReason;
  /** Base URL of the target, redacted. */
  readonly target: string;
  /** Who the clients were: one identity each, or one for all (`one identity for all 200 clients (sub 1)`). */
  readonly identity?: { readonly policy: 'none' | 'shared-token' | 'shared-subject' | 'per-client'; readonly description: string; readonly subject?: string };
  readonly clients: {
    readonly planned: number;
    readonly peakOpen: number;
    /** Successful opens, first connects and reconnects together. */
    readonly opens: number;
    /**
     * Time-weighted mean of the clients up over the steady state (stream open, or down on
     * purpose for churn); null when the run never reached it. `open>=95%` judges it.
     */
    readonly meanOpen?: number | null;
  };
  /** The publish schedule: its shared start (wall clock, ISO; shards agree on it), rate and length. */
  readonly schedule?: { readonly startAt: string | null; readonly ratePerSecond: number; readonly events: number } | null;
  readonly connect: { readonly headers: HistogramBlock; readonly firstEvent: HistogramBlock };
  /** Delivery latency per (event, client), from each event's scheduled send time. */
  readonly latency: HistogramBlock;
  /** The gap between consecutive events of one connection (token to token for LLM-style streams); absent in older files. */
  readonly interEvent?: HistogramBlock;
  /** The run over time (schema v2; absent in v1 files). */
  readonly series?: TimeSeries;
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
    /** Expected, and still within its timeout when the run was interrupted: neither delivered nor lost. */
    readonly unsettled?: number;
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
    /** How late ssekit's own event loop ran over the run (ms over its 10 ms sampling), and CPU time over wall time. */
    readonly eventLoopDelay?: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
    readonly cpuShare?: number;
  };
  readonly thresholds: readonly ThresholdVerdict[];
  /** What the figures most likely mean, in plain words (the server kicked the streams, lost count, …). */
  readonly diagnoses?: readonly string[];
}

const EMPTY_BLOCK: HistogramBlock = { summary: { count: 0, minMs: Number.NaN, p50Ms: Number.NaN, p90Ms: Number.NaN, p95Ms: Number.NaN, p99Ms: Number.NaN, p999Ms: Number.NaN, maxMs: Number.NaN, meanMs: Number.NaN }, hdr: '' };

/**
 * The figures thresholds are judged on, read from a result: bench judges its own run with it
 * and `stats merge` re-judges merged shards with it, so both agree by construction.
 */
export function thresholdFiguresOf(result: Omit<BenchResult, 'thresholds' | 'endReason'>): ThresholdFigures {
  const blocks = { latency: result.latency, connect: result.connect.headers, firstEvent: result.connect.firstEvent, gap: result.interEvent ?? EMPTY_BLOCK } as const;
  const e = result.events;
  const hasPublish = e.published + e.publishErrors > 0 || e.expectedDeliveries > 0;
  const attempts = result.clients.opens + result.errors.total;
  return {
    latency: (group, stat) => (group === 'lag' ? lagStatMs(result.self.eventLoopDelay, stat) : latencyStatMs(blocks[group], stat)),
    count: (name) => {
      switch (name) {
        case 'loss':
          return hasPublish ? { value: e.lost, total: e.expectedDeliveries } : undefined;
        case 'leaks':
          return result.leak.leaked === null ? undefined : { value: result.leak.leaked, total: Math.max(1, result.clients.peakOpen) };
        case 'open':
          return result.clients.meanOpen === null || result.clients.meanOpen === undefined ? undefined : { value: result.clients.meanOpen, total: result.clients.planned };
        case 'undercount':
          return result.leak.undercounted === null || result.leak.undercounted === undefined ? undefined : { value: result.leak.undercounted, total: Math.max(1, result.clients.peakOpen) };
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
    unmeasuredReason: (name) => {
      if (name === 'leaks' || name === 'undercount') return result.leak.reason;
      if (name === 'open') return 'the run ended before its steady state';
      return undefined;
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

/** ssekit's own lag statistic (p50, p99, max), ms; NaN when the run did not measure it. */
function lagStatMs(lag: BenchResult['self']['eventLoopDelay'], stat: string): number {
  if (lag === undefined) return Number.NaN;
  return stat === 'p50' ? lag.p50Ms : stat === 'p99' ? lag.p99Ms : stat === 'max' ? lag.maxMs : Number.NaN;
}
