/**
 * publish's per-event outcomes, released in sequence order: an event is reported once the
 * tracker settled it (complete, or its timeout passed) and its producer call has returned.
 */
import type { SettledEvent } from '../metrics/delivery-tracker.js';
import type { PublishedEvent } from '../metrics/publish-result.js';

/** The log of one run. */
export interface EventLog {
  /** The tracker settled an event. */
  onSettled(event: SettledEvent): void;
  /** Its producer call returned after `callMs` (a failed one with its message). */
  onCall(seq: number, callMs: number, error?: string): void;
  /** Reports every event that is ready, in order, up to `sent`. */
  flush(sent: number): void;
  /** Whether every one of the first `sent` events was reported. */
  isComplete(sent: number): boolean;
  readonly events: readonly PublishedEvent[];
}

/** Creates the log; `idOf` names each event, `onEvent` receives each as it is reported; times are from `startedAt` (performance.now()). */
export function createEventLog(count: number, idOf: (seq: number) => string, onEvent?: (event: PublishedEvent) => void, startedAt = performance.now()): EventLog {
  const settled = new Map<number, SettledEvent>();
  const callMs = new Float64Array(count).fill(Number.NaN);
  const errors = new Map<number, string>();
  const events: PublishedEvent[] = [];
  return {
    onSettled(event) {
      settled.set(event.seq, event);
    },
    onCall(seq, ms, error) {
      // The first figure wins: a call that returned but could not be matched is reported once.
      if (Number.isNaN(callMs[seq] as number)) callMs[seq] = ms;
      if (error !== undefined) errors.set(seq, error);
    },
    flush(sent) {
      while (events.length < sent) {
        const seq = events.length;
        const outcome = settled.get(seq);
        if (outcome === undefined || Number.isNaN(callMs[seq] as number)) return;
        settled.delete(seq);
        const event: PublishedEvent = {
          seq,
          atMs: Math.round((outcome.scheduledAt - startedAt) * 1000) / 1000,
          id: idOf(seq),
          latencyMs: outcome.lastArrivalAt - outcome.scheduledAt,
          callMs: callMs[seq] as number,
          delivered: outcome.delivered,
          expected: outcome.expected,
          error: errors.get(seq),
        };
        events.push(event);
        onEvent?.(event);
      }
    },
    isComplete: (sent) => events.length >= sent,
    events,
  };
}
