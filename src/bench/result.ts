/**
 * Turns what a finished run measured into its `BenchResult`: a pure function (no clock, no
 * process reads), so the verdict of a run can be checked from made-up measurements.
 */
import { redactUrl } from '../core/redact.js';
import { RESULT_SCHEMA_VERSION, thresholdFiguresOf, type BenchResult, type LeakReport } from '../metrics/bench-result.js';
import type { DeliveryCounts } from '../metrics/delivery-tracker.js';
import { histogramBlock, type LatencyHistogram } from '../metrics/histogram.js';
import type { TimeSeries } from '../metrics/time-series.js';
import { diagnoseBench } from '../metrics/diagnoses.js';
import { evaluateThresholds, parseThreshold } from '../metrics/thresholds.js';
import type { IdentityPolicy } from '../transport/identity.js';
import { mapToRecord, type FleetCounters } from './fleet-counters.js';
import type { Shard } from './population.js';
import { hashPlan, type BenchPlan } from './scenario.js';

/** Everything a run measured, read once at its end. */
export interface BenchMeasurements {
  readonly plan: BenchPlan;
  readonly shard: Shard | undefined;
  readonly runId: string;
  readonly version: string;
  readonly startedAt: Date;
  readonly endedAt: Date;
  /** Clients of this process. */
  readonly planned: number;
  readonly counters: FleetCounters;
  readonly deliveries: DeliveryCounts & { readonly peakOpen: number };
  readonly latency: LatencyHistogram;
  readonly series: TimeSeries;
  /** Producer calls made by this process, and how many failed. */
  readonly published: number;
  readonly publishErrors: number;
  readonly leak: LeakReport;
  readonly self: BenchResult['self'];
  readonly isInterrupted: boolean;
  /** How identities were shared, and the line that says so. */
  readonly identity: { readonly policy: IdentityPolicy; readonly description: string };
  /** Time-weighted mean of clients up over the steady state; null when it was never reached. */
  readonly meanOpen: number | null;
  readonly schedule: NonNullable<BenchResult['schedule']> | null;
}

/** Assembles the result and judges its thresholds. */
export function assembleBenchResult(m: BenchMeasurements): BenchResult {
  const { counters, deliveries: d } = m;
  const measured: Omit<BenchResult, 'thresholds' | 'endReason'> = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'bench',
    tool: { name: 'ssekit', version: m.version },
    scenario: { name: m.plan.name, hash: hashPlan(m.plan) },
    runId: m.runId,
    shard: m.shard ?? null,
    startedAt: m.startedAt.toISOString(),
    endedAt: m.endedAt.toISOString(),
    durationMs: m.endedAt.getTime() - m.startedAt.getTime(),
    target: redactUrl(m.plan.target),
    identity: identityOf(m.identity.policy, m.identity.description),
    clients: { planned: m.planned, peakOpen: d.peakOpen, opens: counters.opens, meanOpen: m.meanOpen },
    schedule: m.schedule,
    connect: { headers: histogramBlock(counters.connectHeaders), firstEvent: histogramBlock(counters.connectFirstEvent) },
    latency: histogramBlock(m.latency),
    interEvent: histogramBlock(counters.interEvent),
    series: m.series,
    events: {
      published: m.published,
      publishErrors: m.publishErrors,
      expectedDeliveries: d.expectedDeliveries,
      delivered: d.delivered,
      lost: d.lost,
      duplicated: d.duplicated,
      outOfOrder: d.outOfOrder,
      recovered: d.recovered,
      missedDuringReconnect: d.missedDuringReconnect,
      unsettled: d.unsettled,
      received: counters.eventsReceived,
      bytesReceived: counters.bytesReceived,
    },
    reconnects: { total: counters.reconnectTotal, byReason: mapToRecord(counters.reconnects) },
    statuses: mapToRecord(counters.statuses),
    errors: { total: counters.errorTotal, byClass: mapToRecord(counters.errors) },
    leak: m.leak,
    self: m.self,
  };
  const thresholds = evaluateThresholds(m.plan.thresholds.map((t) => parseThreshold(t)), thresholdFiguresOf(measured));
  const isFailed = thresholds.some((t) => !t.passed);
  return { ...measured, endReason: m.isInterrupted ? 'interrupted' : isFailed ? 'failed' : 'passed', thresholds, diagnoses: diagnoseBench(measured) };
}

function identityOf(policy: IdentityPolicy, description: string): NonNullable<BenchResult['identity']> {
  return policy.kind === 'shared-subject' || policy.kind === 'per-client' ? { policy: policy.kind, description, subject: policy.subject } : { policy: policy.kind, description };
}
