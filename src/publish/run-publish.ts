/**
 * `publish`'s engine, as phases over one named state: open the watching streams and wait for
 * all of them, open the producer, send N events on the shared open-model schedule, wait until
 * each is settled (delivered everywhere, or its timeout passed), and assemble the result. Latency
 * is measured from each event's scheduled send time, one monotonic clock at both ends, so a
 * stalled producer shows up as latency instead of hiding (coordinated omission).
 */
import type { Dispatcher } from 'undici';
import { waitUntil } from '../core/sleep.js';
import { createMarkerCodec, type MarkerCodec } from '../metrics/correlate.js';
import { createDeliveryTracker, type DeliveryTracker } from '../metrics/delivery-tracker.js';
import { createLatencyHistogram, histogramBlock, summaryStatMs, summarizeLatency, type LatencyHistogram } from '../metrics/histogram.js';
import { PUBLISH_RESULT_SCHEMA_VERSION, type GateStat, type PublishedEvent, type PublishResult } from '../metrics/publish-result.js';
import { KICK_WINDOW_MS } from '../metrics/diagnoses.js';
import { selfLagDiagnosis, startSelfLagMonitor, type SelfLagMonitor } from '../metrics/self-lag.js';
import { DEFAULT_MAX_SELF_LAG_MS } from '../metrics/thresholds.js';
import { receiptNotice } from '../producers/receipt.js';
import { startPublishSchedule, type PublishSchedule } from '../producers/schedule.js';
import type { BodyTemplate } from '../producers/template.js';
import type { Producer } from '../producers/types.js';
import { createDeliveryMatcher, type Correlation, type DeliveryMatcher } from './correlation.js';
import { createEventLog, type EventLog } from './event-log.js';
import { openWatchers, type WatchedStream, type Watchers } from './watchers.js';

/** Options for `runPublish`, built once by the CLI. */
export interface PublishOptions {
  readonly producer: Producer;
  readonly template: BodyTemplate;
  readonly correlation: Correlation;
  /** One entry per watching connection (fan-out: a stream listed once per listener, each with its own credentials). */
  readonly watch: readonly WatchedStream[];
  /** How the watchers' identities are shared, for the verdict's words (`one identity for all 3 watchers (sub 1)`). */
  readonly identity?: { readonly isShared: boolean; readonly description: string } | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly count: number;
  /** Events per second (open model). */
  readonly ratePerSecond: number;
  /** An event not seen within this long after its scheduled time is lost, ms. */
  readonly timeoutMs: number;
  readonly targetMs: number;
  readonly gate: GateStat;
  readonly maxEventBytes: number;
  /** How long to wait for every watcher to open, ms. */
  readonly openTimeoutMs: number;
  readonly dispatcher: Dispatcher;
  /** ssekit's version, for the result. */
  readonly version?: string | undefined;
  /** ssekit's own event-loop lag (p99, ms) over which the run fails: its latency would be ssekit's (default 50, as bench's lag.p99<50ms). */
  readonly maxSelfLagMs?: number | undefined;
}

/** Callbacks; `onEvent` once per event when it is settled. */
export interface PublishHooks {
  readonly signal: AbortSignal;
  onEvent?(event: PublishedEvent): void;
  onStatus?(text: string): void;
}

const SWEEP_MS = 25;

/** The state of one run, shared by its phases. */
interface PublishRun {
  readonly options: PublishOptions;
  readonly hooks: PublishHooks;
  readonly startedAtWall: Date;
  readonly marker: MarkerCodec;
  readonly latency: LatencyHistogram;
  readonly callLatency: LatencyHistogram;
  readonly tracker: DeliveryTracker;
  readonly matcher: DeliveryMatcher;
  readonly log: EventLog;
  readonly watchers: Watchers;
  readonly lag: SelfLagMonitor;
  schedule: PublishSchedule | undefined;
  sweeper: NodeJS.Timeout | undefined;
  /** Notices already given (each once). */
  readonly noticed: Set<string>;
}

/** Runs the publish-and-measure loop. Throws only when the watchers cannot open or the producer cannot connect. */
export async function runPublish(options: PublishOptions, hooks: PublishHooks): Promise<PublishResult> {
  const run = createPublishRun(options, hooks);
  try {
    await run.watchers.waitForAllOpen(options.openTimeoutMs, hooks.signal);
    await options.producer.open();
    const n = run.watchers.count;
    const who = options.identity === undefined ? '' : ` (${options.identity.description})`;
    hooks.onStatus?.(`${n} watching stream${n === 1 ? '' : 's'} open${who}; publishing ${options.count} event${options.count === 1 ? '' : 's'} at ${options.ratePerSecond}/s via ${options.producer.description}`);
    await publishAll(run);
  } finally {
    run.lag.stop();
    if (run.sweeper !== undefined) clearInterval(run.sweeper);
    sweep(run, true);
    await run.watchers.close();
    await options.producer.close();
  }
  return assemblePublishResult(run);
}

function createPublishRun(options: PublishOptions, hooks: PublishHooks): PublishRun {
  const marker = createMarkerCodec();
  const latency = createLatencyHistogram();
  const watcherCount = options.watch.length;
  // Completeness and latency are the fleet's tracker (the same as bench): each event is
  // expected at every watcher open when it was scheduled.
  let log: EventLog | undefined;
  const tracker = createDeliveryTracker({ clients: watcherCount, marker, timeoutMs: options.timeoutMs, histogram: latency, onSettled: (event) => log?.onSettled(event) });
  const matcher = createDeliveryMatcher(options.correlation, tracker, marker);
  log = createEventLog(options.count, (seq) => matcher.idOf(seq), hooks.onEvent);
  const watchers = openWatchers(
    { watch: options.watch, headers: options.headers, maxEventBytes: options.maxEventBytes, dispatcher: options.dispatcher },
    {
      onData: (watcher, data, at) => matcher.onDelivery(watcher, data, at),
      // Every watcher stays expected from its first open on: an event it misses while
      // reconnecting never reached it, and publish counts that as lost.
      onFirstOpen: (watcher) => tracker.onOpen(watcher),
      onStatus: (text) => hooks.onStatus?.(text),
    },
  );
  return { options, hooks, startedAtWall: new Date(), marker, latency, callLatency: createLatencyHistogram(), tracker, matcher, log, watchers, lag: startSelfLagMonitor(), schedule: undefined, sweeper: undefined, noticed: new Set() };
}

/** Sends every event on schedule, then waits until each one is reported. */
async function publishAll(run: PublishRun): Promise<void> {
  const { options, hooks } = run;
  run.sweeper = setInterval(() => sweep(run, false), SWEEP_MS);
  const schedule = startPublishSchedule(
    {
      producer: options.producer,
      template: options.template,
      marker: run.marker,
      tracker: run.tracker,
      startAt: performance.now(),
      ratePerSecond: options.ratePerSecond,
      count: options.count,
      onPublished(seq, result, callMs) {
        run.callLatency.recordMs(callMs);
        run.log.onCall(seq, callMs);
        const notice = receiptNotice(options.producer, result);
        if (notice !== undefined && !run.noticed.has(notice)) {
          run.noticed.add(notice);
          hooks.onStatus?.(`ssekit: ${notice}`);
        }
        return run.matcher.onPublished(seq, result);
      },
      onFailed: (seq, message, callMs) => run.log.onCall(seq, callMs, message),
    },
    hooks.signal,
  );
  run.schedule = schedule;
  if (!(await schedule.settle(hooks.signal))) return;
  await waitUntil(() => run.log.isComplete(schedule.sent), { timeoutMs: Number.POSITIVE_INFINITY, intervalMs: SWEEP_MS, signal: hooks.signal });
}

function sweep(run: PublishRun, isFinal: boolean): void {
  run.tracker.sweep(performance.now(), isFinal);
  run.log.flush(run.schedule?.sent ?? 0);
}

/** The verdict and the result file, from the final state. */
function assemblePublishResult(run: PublishRun): PublishResult {
  const { options, tracker } = run;
  const sent = run.schedule?.sent ?? 0;
  const producerErrors = run.schedule?.failed ?? 0;
  const { expectedDeliveries, delivered, duplicated, lost } = tracker;
  const gateValueMs = summaryStatMs(summarizeLatency(run.latency), options.gate) ?? Number.NaN;
  const failures: string[] = [];
  if (!(gateValueMs <= options.targetMs)) {
    failures.push(Number.isNaN(gateValueMs) ? `no deliveries to measure ${options.gate} on` : `${options.gate} ${gateValueMs.toFixed(1)} ms is over the ${options.targetMs} ms target`);
  }
  if (lost > 0) failures.push(`${lost} of ${expectedDeliveries} deliveries lost (not seen within ${options.timeoutMs} ms)`);
  failures.push(...watcherFailures(run));
  if (producerErrors > 0) failures.push(`${producerErrors} of ${sent} publishes failed`);
  const self = run.lag.stop();
  // The same guard as bench's lag.p99<50ms: latency measured by a saturated ssekit is its own.
  if (self.eventLoopDelay.p99Ms >= (options.maxSelfLagMs ?? DEFAULT_MAX_SELF_LAG_MS)) failures.push(selfLagDiagnosis(self, Number.NaN) ?? `ssekit's own process lagged p99 ${Math.round(self.eventLoopDelay.p99Ms)} ms`);
  const endedAt = new Date();
  return {
    schemaVersion: PUBLISH_RESULT_SCHEMA_VERSION,
    kind: 'publish',
    tool: { name: 'ssekit', version: options.version ?? 'unknown' },
    startedAt: run.startedAtWall.toISOString(),
    endedAt: endedAt.toISOString(),
    durationMs: endedAt.getTime() - run.startedAtWall.getTime(),
    endReason: run.hooks.signal.aborted ? 'interrupted' : failures.length === 0 ? 'passed' : 'failed',
    producer: options.producer.description,
    watchers: run.watchers.count,
    sent,
    producerErrors,
    expectedDeliveries,
    delivered,
    lost,
    duplicated,
    latency: histogramBlock(run.latency),
    callLatency: histogramBlock(run.callLatency),
    targetMs: options.targetMs,
    gate: options.gate,
    gateValueMs: Number.isNaN(gateValueMs) ? null : gateValueMs,
    failures,
    self,
    events: run.log.events,
  };
}

/** Why watchers missed events, named: the server closing them, or a stream that failed. */
function watcherFailures(run: PublishRun): string[] {
  const out: string[] = [];
  const troubles = [...run.watchers.troubles.entries()];
  const kicked = troubles.filter(([, t]) => t.kicked > 0).map(([i]) => i + 1);
  if (kicked.length > 0) {
    const identity = run.options.identity;
    const why = identity?.isShared === true ? `: ${identity.description}, and the server seems to allow one stream per user (drop --sub, or put {{vu}} in --claims)` : '';
    out.push(`the server closed watcher${kicked.length === 1 ? '' : 's'} ${kicked.join(', ')} within ${KICK_WINDOW_MS / 1000} s of opening${why}`);
  }
  for (const [index, trouble] of troubles) if (trouble.failure !== undefined) out.push(`watcher ${index + 1} failed, so its events count as lost: ${trouble.failure}`);
  return out;
}
