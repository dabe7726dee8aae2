/**
 * `publish`'s engine: open the watching streams, publish N events on an open-model schedule,
 * match each delivery to its event, and measure latency from the event's scheduled send time
 * (so a stalled producer shows up as latency instead of hiding: coordinated omission).
 *
 * One monotonic clock (`performance.now()`) stamps both ends.
 */
import type { Dispatcher } from 'undici';
import { setMaxListeners } from 'node:events';
import { ConnectError, type SsekitError } from '../core/errors.js';
import { settleOrAbort, sleep } from '../core/sleep.js';
import { createMarkerCodec, readIdAt } from '../metrics/correlate.js';
import { createDeliveryTracker, type SettledEvent } from '../metrics/delivery-tracker.js';
import { createLatencyHistogram, summarizeLatency, summaryStatMs, type LatencyHistogram, type LatencySummary } from '../metrics/histogram.js';
import type { Producer } from '../producers/producer.js';
import type { BodyTemplate } from '../producers/template.js';
import { tryParseJson } from '../stream/normalize.js';
import type { TokenPlacement } from '../transport/auth.js';
import { runSseConnection, type SseConnectionEnd } from '../transport/sse-connection.js';

/** How deliveries are matched to published events. */
export type Correlation =
  | { readonly kind: 'marker' }
  | {
      readonly kind: 'id';
      /** JSON path of the id in the producer's response (e.g. `order_id`). */
      readonly responsePath: string;
      /** JSON path of the id in the delivered event's data (e.g. `data.order_id`). */
      readonly eventPath: string;
    };

/** A latency statistic a gate can check. */
export type GateStat = 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'max' | 'mean';

/** Options for `runPublish`, built once by the CLI. */
export interface PublishOptions {
  readonly producer: Producer;
  readonly template: BodyTemplate;
  readonly correlation: Correlation;
  readonly watch: readonly { readonly url: URL; readonly display: string; readonly token?: TokenPlacement | undefined }[];
  /** Connections per watched stream (fan-out). */
  readonly listenersPerStream: number;
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
}

/** One event's outcome, reported as soon as it is complete or timed out. */
export interface PublishedEvent {
  readonly seq: number;
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

/** The run's result. */
export interface PublishResult {
  readonly endReason: 'passed' | 'failed' | 'interrupted';
  readonly producer: string;
  readonly watchers: number;
  readonly sent: number;
  readonly producerErrors: number;
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly latency: LatencySummary;
  readonly callLatency: LatencySummary;
  readonly histogram: LatencyHistogram;
  readonly targetMs: number;
  readonly gate: GateStat;
  readonly gateValueMs: number;
  /** Why the verdict failed (empty when passed). */
  readonly failures: readonly string[];
  readonly events: readonly PublishedEvent[];
}

/** Callbacks; `onEvent` once per event when it is settled. */
export interface PublishHooks {
  readonly signal: AbortSignal;
  onEvent?(event: PublishedEvent): void;
  onStatus?(text: string): void;
}

const SWEEP_MS = 25;

/** Runs the publish-and-measure loop. Throws only when the watchers cannot open or the producer cannot connect. */
export async function runPublish(options: PublishOptions, hooks: PublishHooks): Promise<PublishResult> {
  const { count, listenersPerStream } = options;
  const listenerCount = options.watch.length * listenersPerStream;
  const marker = createMarkerCodec();
  const histogram = createLatencyHistogram();
  const callHistogram = createLatencyHistogram();

  // Completeness and latency are the fleet's tracker (the same as bench): each event is
  // expected at every watcher open when it was scheduled.
  const outcomes = new Map<number, SettledEvent>();
  const tracker = createDeliveryTracker({ clients: listenerCount, marker, timeoutMs: options.timeoutMs, histogram, onSettled: (event) => void outcomes.set(event.seq, event) });
  const callMs = new Float64Array(count).fill(Number.NaN);
  const ids: string[] = new Array<string>(count).fill('');
  const errors: (string | undefined)[] = new Array<string | undefined>(count).fill(undefined);
  // Id correlation: deliveries can arrive before the POST response; park them by id.
  const seqById = new Map<string, number>();
  const earlyById = new Map<string, { listener: number; at: number }[]>();
  const events: PublishedEvent[] = [];

  const onDelivery = (listener: number, data: string): void => {
    const at = performance.now();
    if (options.correlation.kind === 'marker') {
      tracker.onData(listener, data, at);
      return;
    }
    const parsed = tryParseJson(data);
    if (!parsed.ok) return;
    const id = readIdAt(parsed.value, options.correlation.eventPath);
    if (id === undefined) return;
    const seq = seqById.get(id);
    if (seq !== undefined) tracker.onSeq(listener, seq, at);
    else {
      const parked = earlyById.get(id) ?? [];
      parked.push({ listener, at });
      earlyById.set(id, parked);
    }
  };

  // 1. Watchers first, and wait until every one is open.
  const stop = new AbortController();
  // Every watcher listens on this signal: hundreds are expected, not a leak.
  setMaxListeners(0, stop.signal);
  const onAbort = (): void => stop.abort();
  hooks.signal.addEventListener('abort', onAbort, { once: true });
  let openCount = 0;
  let openResolve: (() => void) | undefined;
  let openReject: ((error: SsekitError) => void) | undefined;
  const allOpen = new Promise<void>((resolve, reject) => {
    // Only the first outcome counts: a watcher failing later misses events, counted as lost.
    openResolve = () => {
      openReject = undefined;
      resolve();
    };
    openReject = (error) => {
      openResolve = undefined;
      openReject = undefined;
      reject(error);
    };
  });
  allOpen.catch(() => undefined);
  const watcherEnds: Promise<SseConnectionEnd>[] = [];
  let listener = 0;
  for (const stream of options.watch) {
    for (let k = 0; k < listenersPerStream; k++) {
      const index = listener++;
      let isOpen = false;
      watcherEnds.push(
        runSseConnection(
          { url: stream.url, headers: options.headers, token: stream.token, maxEventBytes: options.maxEventBytes, dispatcher: options.dispatcher, maxRetries: 3 },
          {
            onEvent: (_type, data) => onDelivery(index, data),
            onStatus(status) {
              if (status.kind === 'open' && !isOpen) {
                // Every watcher stays expected from its first open on: an event it misses while
                // reconnecting never reached it, and publish counts that as lost.
                tracker.onOpen(index);
                isOpen = true;
                openCount += 1;
                if (openCount === listenerCount) openResolve?.();
              } else if (status.kind === 'reconnecting') hooks.onStatus?.(`watcher ${index + 1} reconnecting in ${Math.round(status.delayMs)} ms: ${status.detail}`);
              else if (status.kind === 'failed') openReject?.(status.error);
            },
          },
          stop.signal,
        ),
      );
    }
  }
  const openTimer = setTimeout(() => openReject?.(new ConnectError(`only ${openCount} of ${listenerCount} watching streams opened within ${options.openTimeoutMs} ms`, { code: 'SSEKIT_WATCH_TIMEOUT' })), options.openTimeoutMs);
  const closeAll = async (): Promise<void> => {
    stop.abort();
    await Promise.all(watcherEnds);
    await options.producer.close();
  };
  try {
    await Promise.race([allOpen, abortPromise(hooks.signal)]);
    await options.producer.open();
  } catch (error) {
    clearTimeout(openTimer);
    await closeAll();
    hooks.signal.removeEventListener('abort', onAbort);
    throw error;
  }
  clearTimeout(openTimer);
  hooks.onStatus?.(`${listenerCount} watching stream${listenerCount === 1 ? '' : 's'} open; publishing ${count} event${count === 1 ? '' : 's'} at ${options.ratePerSecond}/s via ${options.producer.description}`);

  // 2. Publish on schedule; 3. settle events as they complete or time out.
  const intervalMs = 1000 / options.ratePerSecond;
  const startAt = performance.now();
  let producerErrors = 0;
  let sent = 0;
  let nextToReport = 0;
  const inFlight = new Set<Promise<void>>();

  // Lines come out in sequence order, once an event is settled and its producer call is back.
  const report = (): void => {
    while (nextToReport < sent) {
      const seq = nextToReport;
      const outcome = outcomes.get(seq);
      if (outcome === undefined || Number.isNaN(callMs[seq] as number)) return;
      outcomes.delete(seq);
      const event: PublishedEvent = {
        seq,
        id: ids[seq] as string,
        latencyMs: outcome.lastArrivalAt - outcome.scheduledAt,
        callMs: callMs[seq] as number,
        delivered: outcome.delivered,
        expected: outcome.expected,
        error: errors[seq],
      };
      events.push(event);
      hooks.onEvent?.(event);
      nextToReport += 1;
    }
  };
  const sweep = (isFinal: boolean): void => {
    tracker.sweep(performance.now(), isFinal);
    report();
  };

  const publishOne = async (seq: number, scheduled: number): Promise<void> => {
    tracker.onScheduled(seq, scheduled, true);
    tracker.hold(seq);
    const nonce = marker.markerFor(seq);
    ids[seq] = nonce;
    const body = options.template.render(seq, nonce);
    const before = performance.now();
    try {
      const result = await options.producer.publish(body);
      callMs[seq] = performance.now() - before;
      callHistogram.recordMs(callMs[seq] as number);
      if (options.correlation.kind === 'id') {
        const parsed = tryParseJson(result.responseText ?? '');
        const id = parsed.ok ? readIdAt(parsed.value, options.correlation.responsePath) : undefined;
        if (id === undefined) {
          fail(seq, `no id at '${options.correlation.responsePath}' in the producer's response`);
          return;
        }
        ids[seq] = id;
        seqById.set(id, seq);
        for (const parked of earlyById.get(id) ?? []) tracker.onSeq(parked.listener, seq, parked.at);
        earlyById.delete(id);
      }
    } catch (error) {
      callMs[seq] = performance.now() - before;
      fail(seq, error instanceof Error ? error.message : String(error));
    } finally {
      tracker.release(seq);
    }
  };
  const fail = (seq: number, message: string): void => {
    errors[seq] = message;
    producerErrors += 1;
    tracker.onPublishFailed(seq);
  };

  let interrupted = hooks.signal.aborted;
  const sweeper = setInterval(() => sweep(false), SWEEP_MS);
  try {
    for (let seq = 0; seq < count && !interrupted; seq++) {
      const scheduled = startAt + seq * intervalMs;
      const waitMs = scheduled - performance.now();
      if (waitMs > 1 && !(await sleep(waitMs, hooks.signal))) {
        interrupted = true;
        break;
      }
      sent += 1;
      // Open model: do not wait for this publish before scheduling the next one.
      const pending = publishOne(seq, scheduled).finally(() => inFlight.delete(pending));
      inFlight.add(pending);
    }
    if (!(await settleOrAbort(Promise.all(inFlight), hooks.signal))) interrupted = true;
    // Wait until every event is reported (settled, or its timeout passed).
    while (!interrupted && nextToReport < sent) {
      if (!(await sleep(SWEEP_MS, hooks.signal))) interrupted = true;
    }
  } finally {
    clearInterval(sweeper);
    sweep(true);
    hooks.signal.removeEventListener('abort', onAbort);
    await closeAll();
  }

  const { expectedDeliveries, delivered, duplicated, lost } = tracker;
  const latency = summarizeLatency(histogram);
  const gateValueMs = summaryStatMs(latency, options.gate) ?? Number.NaN;
  const failures: string[] = [];
  if (!(gateValueMs <= options.targetMs)) {
    failures.push(Number.isNaN(gateValueMs) ? `no deliveries to measure ${options.gate} on` : `${options.gate} ${gateValueMs.toFixed(1)} ms is over the ${options.targetMs} ms target`);
  }
  if (lost > 0) failures.push(`${lost} of ${expectedDeliveries} deliveries lost (not seen within ${options.timeoutMs} ms)`);
  if (producerErrors > 0) failures.push(`${producerErrors} of ${sent} publishes failed`);
  return {
    endReason: interrupted ? 'interrupted' : failures.length === 0 ? 'passed' : 'failed',
    producer: options.producer.description,
    watchers: listenerCount,
    sent,
    producerErrors,
    expectedDeliveries,
    delivered,
    lost,
    duplicated,
    latency,
    callLatency: summarizeLatency(callHistogram),
    histogram,
    targetMs: options.targetMs,
    gate: options.gate,
    gateValueMs,
    failures,
    events,
  };
}


function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_resolve, reject) => {
    const fail = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
