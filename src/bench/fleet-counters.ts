/**
 * The fleet's counters and connect-time histograms, shared by every client. Plain fields and
 * small maps keyed by a handful of strings: incrementing one is the whole per-event cost.
 */
import { createLatencyHistogram, type LatencyHistogram } from '../metrics/histogram.js';

/** Fleet-wide counters. */
export interface FleetCounters {
  opens: number;
  eventsReceived: number;
  bytesReceived: number;
  readonly connectHeaders: LatencyHistogram;
  readonly connectFirstEvent: LatencyHistogram;
  /** The gap between consecutive events of one connection (token to token, for LLM-style streams). */
  readonly interEvent: LatencyHistogram;
  readonly statuses: Map<number, number>;
  readonly errors: Map<string, number>;
  readonly reconnects: Map<string, number>;
  countStatus(status: number): void;
  /** Counts an error; the first `detail` of each kind is kept for the report. */
  countError(kind: string, detail?: string): void;
  /** One example per error kind (`status-4xx` → `401 Unauthorized`). */
  readonly errorExamples: Map<string, string>;
  /** Clients that stopped for good (the server refused them). */
  refusedClients: number;
  /** Clients whose stream opened at least once (side streams not counted). */
  clientsEverOpened: number;
  countReconnect(cause: string): void;
  readonly errorTotal: number;
  readonly reconnectTotal: number;
  /** Clients up (stream open, or down on purpose for churn), integrated over time. */
  readonly uptime: LevelIntegral;
}

/** A level that changes at discrete moments (streams up), integrated over time: the area gives the time-weighted mean. */
export interface LevelIntegral {
  change(delta: number, now: number): void;
  readonly level: number;
  /** ∫ level dt from the start to `now`, in level × ms. */
  areaAt(now: number): number;
}

/** Creates a level integral at 0. */
export function createLevelIntegral(): LevelIntegral {
  let level = 0;
  let area = 0;
  let since = 0;
  return {
    change(delta, now) {
      area += level * (now - since);
      since = now;
      level += delta;
    },
    get level() {
      return level;
    },
    areaAt: (now) => area + level * (now - since),
  };
}

/** Creates empty fleet counters. */
export function createFleetCounters(): FleetCounters {
  const statuses = new Map<number, number>();
  const errors = new Map<string, number>();
  const reconnects = new Map<string, number>();
  const errorExamples = new Map<string, string>();
  let errorTotal = 0;
  let reconnectTotal = 0;
  return {
    opens: 0,
    eventsReceived: 0,
    bytesReceived: 0,
    connectHeaders: createLatencyHistogram(),
    connectFirstEvent: createLatencyHistogram(),
    interEvent: createLatencyHistogram(),
    statuses,
    errors,
    reconnects,
    countStatus(status) {
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    },
    countError(kind, detail) {
      errorTotal += 1;
      errors.set(kind, (errors.get(kind) ?? 0) + 1);
      if (detail !== undefined && !errorExamples.has(kind)) errorExamples.set(kind, detail);
    },
    errorExamples,
    refusedClients: 0,
    clientsEverOpened: 0,
    countReconnect(cause) {
      reconnectTotal += 1;
      reconnects.set(cause, (reconnects.get(cause) ?? 0) + 1);
    },
    get errorTotal() {
      return errorTotal;
    },
    get reconnectTotal() {
      return reconnectTotal;
    },
    uptime: createLevelIntegral(),
  };
}

/** A Map as a plain, key-sorted object (for the result file). */
export function mapToRecord<K extends string | number>(map: ReadonlyMap<K, number>): Record<string, number> {
  return Object.fromEntries([...map.entries()].sort(([a], [b]) => String(a).localeCompare(String(b))).map(([k, v]) => [String(k), v]));
}
