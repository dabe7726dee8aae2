/**
 * Completeness and latency for a fleet: each published event is expected at every client
 * whose stream was open when the event was scheduled. Per client it finds lost, duplicated,
 * out-of-order and replay-recovered deliveries; latency is recorded per (event, client) from
 * the event's scheduled send time, only for events this process published (shards never
 * compare two machines' clocks).
 *
 * Hot path: `onData` is one `indexOf` for events without a marker, and typed-array writes for
 * those with one. Per event (not per delivery) it allocates two arrays of client size.
 */
import type { MarkerCodec } from './correlate.js';
import type { LatencyHistogram } from './histogram.js';

/** One scheduled event in flight. */
interface EventState {
  readonly seq: number;
  /** performance.now() of the scheduled send; NaN for a foreign event seen before its local schedule. */
  scheduledAt: number;
  readonly isOwn: boolean;
  /** Per client: the connection epoch open at schedule time (0 = not open). */
  readonly expectedEpoch: Uint32Array;
  /** Per client: delivered already. */
  readonly delivered: Uint8Array;
  /** The publish failed: nothing is expected. */
  isVoid: boolean;
  /** Expected clients that have not had it yet; at 0 the event settles before its timeout. */
  remaining: number;
  /** performance.now() of the last expected delivery (0: none yet). */
  lastArrivalAt: number;
  /** Its producer call has not returned: it must not settle as lost yet (it may still fail). */
  isHeld: boolean;
}

/** How one event ended, for per-event reports (`publish` prints a line per event). */
export interface SettledEvent {
  readonly seq: number;
  readonly scheduledAt: number;
  /** Clients that were expected to get it, and how many did. */
  readonly expected: number;
  readonly delivered: number;
  /** performance.now() of the last expected delivery; NaN when none arrived. */
  readonly lastArrivalAt: number;
  /** Its publish failed (nothing was expected). */
  readonly isVoid: boolean;
}

/** Totals, read at the end or for progress. */
export interface DeliveryCounts {
  readonly expectedDeliveries: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly outOfOrder: number;
  readonly recovered: number;
  readonly missedDuringReconnect: number;
  /** Marked deliveries after their event was settled (counted lost already). */
  readonly late: number;
  /** Expected deliveries still within their timeout when the run was cut short: neither delivered nor lost. */
  readonly unsettled: number;
}

/** The tracker. Client indexes are 0-based; -1 (a duplicate side stream) is ignored. */
export interface DeliveryTracker extends DeliveryCounts {
  /** Client `index` has an open stream now. */
  onOpen(index: number): void;
  /** Client `index`'s stream closed. */
  onClose(index: number): void;
  /** An event's scheduled time came (own or, when sharded, another shard's). */
  onScheduled(seq: number, scheduledAt: number, isOwn: boolean): void;
  /** The publish of `seq` failed: it expects nothing. */
  onPublishFailed(seq: number): void;
  /** Its producer call is in flight: do not settle it as lost until `release` (it may still fail). */
  hold(seq: number): void;
  release(seq: number): void;
  /** Event data arrived at client `index` at time `at` (performance.now()). */
  onData(index: number, data: string, at: number): void;
  /** Event `seq` arrived at client `index` (matched some other way, e.g. by a producer's id). */
  onSeq(index: number, seq: number, at: number): void;
  /** Settles events whose timeout passed (all of them with `isFinal`). */
  sweep(now: number, isFinal?: boolean): void;
  /** Clients open now, and the most ever open at once. */
  readonly openCount: number;
  readonly peakOpen: number;
  readonly inFlight: number;
}

/** Options for `createDeliveryTracker`. */
export interface DeliveryTrackerOptions {
  readonly clients: number;
  readonly marker: MarkerCodec;
  /** A delivery later than this after the scheduled time is lost, ms. */
  readonly timeoutMs: number;
  /** Receives latency (ms) of own, expected deliveries (a histogram, or bench's rolling one). */
  readonly histogram: Pick<LatencyHistogram, 'recordMs'>;
  /** Per client, 1 when published events are expected there (default: every client). */
  readonly subscribers?: Uint8Array | undefined;
  /** Called as each event settles (complete, or its timeout passed). */
  readonly onSettled?: ((event: SettledEvent) => void) | undefined;
  /**
   * Publishers whose events interleave (shards: event `seq` comes from publisher `seq % n`).
   * Order is judged within each publisher's sequence only: two shards' schedules are not one
   * sequence, and an event of one arriving before an earlier-numbered one of the other is not
   * out of order. Default 1.
   */
  readonly publishers?: number | undefined;
}

/** Creates the tracker. */
export function createDeliveryTracker(options: DeliveryTrackerOptions): DeliveryTracker {
  const n = options.clients;
  const { marker, histogram, timeoutMs } = options;
  const openEpoch = new Uint32Array(n);
  const nextEpoch = new Uint32Array(n);
  const publishers = Math.max(1, options.publishers ?? 1);
  // Per client and publisher: the highest seq delivered so far.
  const lastSeq = new Int32Array(n * publishers).fill(-1);
  const events = new Map<number, EventState>();
  // Every seq below this is settled; a delivery for one is late.
  let settledBelow = 0;
  let openCount = 0;
  let peakOpen = 0;
  let expectedDeliveries = 0;
  let delivered = 0;
  let lost = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  let recovered = 0;
  let missedDuringReconnect = 0;
  let late = 0;
  let unsettled = 0;

  // Per client, the seqs it has had, as sorted runs [start, end, start, end, ...]: deliveries
  // come in order, so a delivery extends the last run. A replay of an event already settled
  // (a snapshot on reconnect repeating old events) is then a duplicate when the client had it,
  // whatever its age. Made at a client's first delivery.
  const hadRuns: (number[] | undefined)[] = new Array<number[] | undefined>(n);

  const subscribers = options.subscribers;
  const createState = (seq: number, scheduledAt: number, isOwn: boolean): EventState => {
    const expectedEpoch = openEpoch.slice();
    let remaining = 0;
    for (let i = 0; i < n; i++) {
      if (subscribers !== undefined && subscribers[i] === 0) expectedEpoch[i] = 0;
      else if (expectedEpoch[i] !== 0) remaining += 1;
    }
    const state: EventState = { seq, scheduledAt, isOwn, expectedEpoch, delivered: new Uint8Array(n), isVoid: false, remaining, lastArrivalAt: 0, isHeld: false };
    events.set(seq, state);
    return state;
  };

  // Bound once: the marker scan calls it for each marker found.
  let currentIndex = 0;
  let currentAt = 0;
  const deliver = (seq: number): void => {
    const index = currentIndex;
    let state = events.get(seq);
    if (state === undefined) {
      if (seq < settledBelow) {
        // Settled already: a second copy if this client had it, else later than its timeout.
        if (hasRun(hadRuns[index], seq)) duplicated += 1;
        else late += 1;
        return;
      }
      // Another shard published it before our schedule reached it (clock skew): expect it
      // from the clients open now.
      state = createState(seq, Number.NaN, false);
    }
    // A failed publish expects nothing; should it arrive after all, it is not counted.
    if (state.isVoid) return;
    if (state.delivered[index] === 1) {
      duplicated += 1;
      return;
    }
    // Past its timeout (possible while a slow producer call holds the event): lost, not delivered.
    if (currentAt - state.scheduledAt > timeoutMs) {
      late += 1;
      return;
    }
    state.delivered[index] = 1;
    const runs = hadRuns[index];
    if (runs === undefined) hadRuns[index] = [seq, seq];
    else addToRuns(runs, seq);
    const orderSlot = publishers === 1 ? index : index * publishers + (seq % publishers);
    if (seq < (lastSeq[orderSlot] as number)) outOfOrder += 1;
    else lastSeq[orderSlot] = seq;
    if (state.expectedEpoch[index] !== 0) {
      delivered += 1;
      state.remaining -= 1;
      if (currentAt > state.lastArrivalAt) state.lastArrivalAt = currentAt;
      if (state.isOwn) histogram.recordMs(currentAt - state.scheduledAt);
    } else recovered += 1;
  };

  const onSettled = options.onSettled;
  /** `isCutShort`: the run ended before the event's timeout; its missing deliveries are unsettled, not lost. */
  const settle = (state: EventState, isCutShort: boolean): void => {
    events.delete(state.seq);
    if (state.isVoid) {
      onSettled?.({ seq: state.seq, scheduledAt: state.scheduledAt, expected: 0, delivered: 0, lastArrivalAt: Number.NaN, isVoid: true });
      return;
    }
    const { expectedEpoch, delivered: got } = state;
    let expected = 0;
    let arrived = 0;
    for (let i = 0; i < n; i++) {
      const epoch = expectedEpoch[i] as number;
      if (epoch === 0) continue;
      expectedDeliveries += 1;
      expected += 1;
      if (got[i] === 1) {
        arrived += 1;
        continue;
      }
      if (isCutShort) unsettled += 1;
      // Still on the same connection: the server had every chance. Otherwise it was
      // reconnecting, and only a replay (Last-Event-ID) could have brought it.
      else if (openEpoch[i] === epoch) lost += 1;
      else missedDuringReconnect += 1;
    }
    onSettled?.({ seq: state.seq, scheduledAt: state.scheduledAt, expected, delivered: arrived, lastArrivalAt: arrived > 0 ? state.lastArrivalAt : Number.NaN, isVoid: false });
  };

  return {
    onOpen(index) {
      if (index < 0 || index >= n || openEpoch[index] !== 0) return;
      const epoch = (nextEpoch[index] as number) + 1;
      nextEpoch[index] = epoch;
      openEpoch[index] = epoch;
      openCount += 1;
      if (openCount > peakOpen) peakOpen = openCount;
    },
    onClose(index) {
      if (index < 0 || index >= n || openEpoch[index] === 0) return;
      openEpoch[index] = 0;
      openCount -= 1;
    },
    onScheduled(seq, scheduledAt, isOwn) {
      const existing = events.get(seq);
      if (existing !== undefined) {
        // Seen early from another shard: keep its expectations, take the schedule.
        existing.scheduledAt = scheduledAt;
        return;
      }
      if (seq < settledBelow) return;
      createState(seq, scheduledAt, isOwn);
    },
    hold(seq) {
      const state = events.get(seq);
      if (state !== undefined) state.isHeld = true;
    },
    release(seq) {
      const state = events.get(seq);
      if (state !== undefined) state.isHeld = false;
    },
    onPublishFailed(seq) {
      const state = events.get(seq);
      if (state !== undefined) state.isVoid = true;
    },
    onData(index, data, at) {
      if (index < 0) return;
      const found = data.indexOf(marker.prefix);
      if (found === -1) return;
      currentIndex = index;
      currentAt = at;
      marker.scan(data, deliver, found);
    },
    onSeq(index, seq, at) {
      if (index < 0) return;
      currentIndex = index;
      currentAt = at;
      deliver(seq);
    },
    sweep(now, isFinal = false) {
      for (const state of events.values()) {
        const due = Number.isNaN(state.scheduledAt) ? Number.POSITIVE_INFINITY : state.scheduledAt + timeoutMs;
        // Complete events settle at once (a late duplicate then counts as late, not duplicated).
        const isSettled = state.isVoid || (state.remaining === 0 && !Number.isNaN(state.scheduledAt)) || (now >= due && !state.isHeld);
        if (isFinal || isSettled) {
          settle(state, !isSettled && now < due);
          if (state.seq >= settledBelow) settledBelow = state.seq + 1;
        }
      }
    },
    get openCount() {
      return openCount;
    },
    get peakOpen() {
      return peakOpen;
    },
    get inFlight() {
      return events.size;
    },
    get expectedDeliveries() {
      return expectedDeliveries;
    },
    get delivered() {
      return delivered;
    },
    get lost() {
      return lost;
    },
    get duplicated() {
      return duplicated;
    },
    get outOfOrder() {
      return outOfOrder;
    },
    get recovered() {
      return recovered;
    },
    get missedDuringReconnect() {
      return missedDuringReconnect;
    },
    get late() {
      return late;
    },
    get unsettled() {
      return unsettled;
    },
  };
}

/** Adds `seq` to `runs` in place: the last run extended (the hot path), a new run, or (out of order) merged in. */
function addToRuns(runs: number[], seq: number): void {
  const lastEnd = runs[runs.length - 1] as number;
  if (seq === lastEnd + 1) {
    runs[runs.length - 1] = seq;
    return;
  }
  if (seq > lastEnd) {
    runs.push(seq, seq);
    return;
  }
  // Out of order: the first run ending at or after seq - 1 (binary search; the last run does).
  let low = 0;
  let high = runs.length / 2 - 1;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((runs[2 * mid + 1] as number) < seq - 1) low = mid + 1;
    else high = mid;
  }
  const i = 2 * low;
  const start = runs[i] as number;
  const end = runs[i + 1] as number;
  if (seq >= start && seq <= end) return;
  if (seq === end + 1) {
    runs[i + 1] = seq;
    // Joined the next run.
    if (i + 2 < runs.length && runs[i + 2] === seq + 1) runs.splice(i + 1, 2);
  } else if (seq === start - 1) runs[i] = seq;
  else runs.splice(i, 0, seq, seq);
}

/** Whether `seq` lies in one of the runs (binary search). */
function hasRun(runs: number[] | undefined, seq: number): boolean {
  if (runs === undefined) return false;
  let low = 0;
  let high = runs.length / 2 - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (seq < (runs[2 * mid] as number)) high = mid - 1;
    else if (seq > (runs[2 * mid + 1] as number)) low = mid + 1;
    else return true;
  }
  return false;
}
