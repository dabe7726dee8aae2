/**
 * The open-model publish schedule, one for `publish` and `bench`: event `seq` is due at
 * `startAt + seq / rate`, and is sent then whether or not earlier events were delivered or their
 * producer calls returned (a closed loop would wait, and a slow backend would then look fast:
 * coordinated omission). Latency is measured from the due time, so a stalled producer shows up.
 *
 * It runs on its own timer to the millisecond: a coarser engine tick would add up to a tick of
 * ssekit's own lag to every latency measured from the schedule.
 */
import { SsekitError } from '../core/errors.js';
import { settleOrAbort, sleep } from '../core/sleep.js';
import type { MarkerCodec } from '../metrics/correlate.js';
import type { BodyTemplate } from './template.js';
import type { ProduceResult, Producer } from './types.js';

/** What the schedule tells the delivery tracker (a `DeliveryTracker` is one). */
export interface ScheduleTracker {
  onScheduled(seq: number, scheduledAt: number, isOwn: boolean): void;
  hold(seq: number): void;
  release(seq: number): void;
  onPublishFailed(seq: number): void;
}

/** Options for `startPublishSchedule`. */
export interface PublishScheduleOptions {
  readonly producer: Producer;
  readonly template: BodyTemplate;
  readonly marker: MarkerCodec;
  readonly tracker: ScheduleTracker;
  /** `performance.now()` at which event 0 is due. */
  readonly startAt: number;
  readonly ratePerSecond: number;
  readonly count: number;
  /** Shards: whether this process sends `seq` (the others' events are only expected). Default: every event. */
  readonly isOwn?: ((seq: number) => boolean) | undefined;
  /**
   * A publish returned, after `callMs`. Return a message to count it as failed after all
   * (publish: the response had no id to correlate by).
   */
  readonly onPublished?: ((seq: number, result: ProduceResult, callMs: number) => string | undefined) | undefined;
  /** A publish failed (the producer threw, or `onPublished` said so); `hint` is the error's, if any. */
  readonly onFailed?: ((seq: number, message: string, callMs: number, hint?: string) => void) | undefined;
}

/** A running schedule. */
export interface PublishSchedule {
  /** Resolves once the last event was due, or the schedule was stopped or aborted. */
  readonly scheduled: Promise<void>;
  /** Sends nothing more. */
  stop(): void;
  /** Waits for the producer calls in flight; false when `signal` aborted first. */
  settle(signal: AbortSignal): Promise<boolean>;
  /** Producer calls made by this process, and how many failed. */
  readonly sent: number;
  readonly failed: number;
}

/** Starts sending events on schedule; `signal` stops the schedule (calls in flight go on). */
export function startPublishSchedule(options: PublishScheduleOptions, signal: AbortSignal): PublishSchedule {
  const state = { sent: 0, failed: 0, isStopped: false, inFlight: new Set<Promise<void>>() };
  const scheduled = runSchedule(options, state, signal);
  return {
    scheduled,
    stop() {
      state.isStopped = true;
    },
    settle: (settleSignal) => settleOrAbort(Promise.all([scheduled, ...state.inFlight]), settleSignal),
    get sent() {
      return state.sent;
    },
    get failed() {
      return state.failed;
    },
  };
}

interface ScheduleState {
  sent: number;
  failed: number;
  isStopped: boolean;
  readonly inFlight: Set<Promise<void>>;
}

async function runSchedule(options: PublishScheduleOptions, state: ScheduleState, signal: AbortSignal): Promise<void> {
  const intervalMs = 1000 / options.ratePerSecond;
  for (let seq = 0; seq < options.count && !state.isStopped; seq++) {
    const dueAt = options.startAt + seq * intervalMs;
    const waitMs = dueAt - performance.now();
    if (waitMs > 0.5 && !(await sleep(waitMs, signal))) return;
    if (state.isStopped) return;
    const isOwn = options.isOwn?.(seq) ?? true;
    options.tracker.onScheduled(seq, dueAt, isOwn);
    if (!isOwn) continue;
    state.sent += 1;
    // Open model: the next event does not wait for this call.
    const call = sendOne(options, state, seq).finally(() => state.inFlight.delete(call));
    state.inFlight.add(call);
  }
}

async function sendOne(options: PublishScheduleOptions, state: ScheduleState, seq: number): Promise<void> {
  const { tracker } = options;
  // Held while the call is in flight: it may still fail, and must not settle as lost before.
  tracker.hold(seq);
  const before = performance.now();
  let failure: string | undefined;
  let hint: string | undefined;
  try {
    const result = await options.producer.publish(options.template.render(seq, options.marker.markerFor(seq)));
    failure = options.onPublished?.(seq, result, performance.now() - before);
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
    hint = error instanceof SsekitError ? error.hint : undefined;
  }
  if (failure !== undefined) {
    state.failed += 1;
    tracker.onPublishFailed(seq);
    options.onFailed?.(seq, failure, performance.now() - before, hint);
  }
  tracker.release(seq);
}
