import { describe, expect, it } from 'vitest';
import { createMarkerCodec } from '../../src/metrics/correlate.js';
import { createDeliveryTracker } from '../../src/metrics/delivery-tracker.js';
import { createLatencyHistogram } from '../../src/metrics/histogram.js';

function setup(clients: number, subscribers?: Uint8Array) {
  const marker = createMarkerCodec('test');
  const histogram = createLatencyHistogram();
  const tracker = createDeliveryTracker({ clients, marker, timeoutMs: 1000, histogram, subscribers });
  const payload = (seq: number): string => JSON.stringify({ event: 'order.created', data: { pickup_address: `A ${marker.markerFor(seq)}` } });
  return { tracker, histogram, payload };
}

describe('delivery tracker', () => {
  it('records latency per (event, client) from the scheduled time', () => {
    const { tracker, histogram, payload } = setup(2);
    tracker.onOpen(0);
    tracker.onOpen(1);
    tracker.onScheduled(0, 100, true);
    tracker.onData(0, payload(0), 110);
    tracker.onData(1, payload(0), 130);
    tracker.sweep(200);
    expect(tracker.delivered).toBe(2);
    expect(tracker.expectedDeliveries).toBe(2);
    expect(tracker.lost).toBe(0);
    expect(histogram.count).toBe(2);
    expect(histogram.maxMs).toBeCloseTo(30, 1);
  });

  it('separates lost (still connected) from missed while reconnecting', () => {
    const { tracker, payload } = setup(3);
    [0, 1, 2].forEach((i) => tracker.onOpen(i));
    tracker.onScheduled(0, 0, true);
    tracker.onData(0, payload(0), 5);
    tracker.onClose(1);
    tracker.onOpen(1); // reconnected: a new connection epoch
    tracker.sweep(2000);
    expect(tracker.lost).toBe(1); // client 2 stayed connected and never got it
    expect(tracker.missedDuringReconnect).toBe(1); // client 1 reconnected in between
  });

  it('counts duplicates, out-of-order deliveries and arrivals after (re)connecting', () => {
    const { tracker, payload } = setup(2);
    tracker.onOpen(0);
    tracker.onScheduled(0, 0, true);
    tracker.onScheduled(1, 10, true);
    tracker.onData(0, payload(1), 20);
    tracker.onData(0, payload(0), 21);
    tracker.onData(0, payload(0), 22);
    tracker.onOpen(1);
    tracker.onData(1, payload(0), 30); // connected after the schedule: a replay
    tracker.sweep(5000, true);
    expect(tracker.outOfOrder).toBe(1);
    expect(tracker.duplicated).toBe(1);
    expect(tracker.recovered).toBe(1);
    expect(tracker.delivered).toBe(2);
  });

  it('counts a replay of an event settled long ago as a duplicate at a client that had it (a snapshot on reconnect)', () => {
    const { tracker, payload } = setup(2);
    tracker.onOpen(0);
    tracker.onOpen(1);
    for (let seq = 0; seq < 6; seq++) {
      tracker.onScheduled(seq, seq * 10, true);
      tracker.onData(0, payload(seq), seq * 10 + 1);
      // Client 1 misses seq 3 (it arrives nowhere for it).
      if (seq !== 3) tracker.onData(1, payload(seq), seq * 10 + 1);
    }
    tracker.sweep(5_000);
    expect(tracker.inFlight).toBe(0);
    expect(tracker.lost).toBe(1);
    // Client 0 reconnects and gets a snapshot of everything: six copies of events it had.
    tracker.onClose(0);
    tracker.onOpen(0);
    tracker.onData(0, [0, 1, 2, 3, 4, 5].map(payload).join(','), 6_000);
    expect(tracker.duplicated).toBe(6);
    // Client 1's snapshot: five it had, and seq 3, which it never had (late, not a duplicate).
    tracker.onData(1, [5, 3, 0, 4, 1, 2].map(payload).join(','), 6_000);
    expect(tracker.duplicated).toBe(11);
    expect(tracker.late).toBe(1);
  });

  it('knows what a client had when its deliveries came out of order and in runs with gaps', () => {
    const { tracker, payload } = setup(1);
    tracker.onOpen(0);
    const had = [9, 2, 3, 7, 1, 5, 12, 6, 10];
    for (let seq = 0; seq <= 12; seq++) tracker.onScheduled(seq, 0, true);
    for (const seq of had) tracker.onData(0, payload(seq), 1);
    tracker.sweep(5_000, true);
    for (let seq = 0; seq <= 12; seq++) tracker.onData(0, payload(seq), 6_000);
    expect(tracker.duplicated).toBe(had.length);
    expect(tracker.late).toBe(13 - had.length);
  });

  it('settles a failed publish at once expecting nothing, and complete events before their timeout', () => {
    const { tracker, payload } = setup(1);
    tracker.onOpen(0);
    tracker.onScheduled(0, 0, true);
    tracker.onPublishFailed(0);
    tracker.onScheduled(1, 0, true);
    tracker.onData(0, payload(1), 3);
    tracker.sweep(4);
    expect(tracker.inFlight).toBe(0); // both settled before their timeout: one failed, one complete
    tracker.onData(0, payload(0), 5); // the failed one arrives after all: late, not counted
    expect(tracker.late).toBe(1);
    expect(tracker.delivered).toBe(1);
    expect(tracker.expectedDeliveries).toBe(1);
    expect(tracker.lost).toBe(0);
  });

  it('only expects events at subscribed clients', () => {
    const { tracker, payload } = setup(2, Uint8Array.from([1, 0]));
    tracker.onOpen(0);
    tracker.onOpen(1);
    tracker.onScheduled(0, 0, true);
    tracker.onData(0, payload(0), 1);
    tracker.sweep(5000);
    expect(tracker.expectedDeliveries).toBe(1);
    expect(tracker.lost).toBe(0);
  });

  it('records no latency for events published by another shard', () => {
    const { tracker, histogram, payload } = setup(1);
    tracker.onOpen(0);
    tracker.onScheduled(0, 0, false);
    tracker.onData(0, payload(0), 5);
    tracker.sweep(5000);
    expect(tracker.delivered).toBe(1);
    expect(histogram.count).toBe(0);
  });

  it('ignores data without this run\'s marker', () => {
    const { tracker } = setup(1);
    tracker.onOpen(0);
    tracker.onScheduled(0, 0, true);
    tracker.onData(0, '{"pickup_address":"ssk_other_0_"}', 1);
    tracker.sweep(5000);
    expect(tracker.delivered).toBe(0);
    expect(tracker.lost).toBe(1);
  });

  it('holds an event while its producer call is in flight, and a delivery past the timeout is not delivered', () => {
    const { tracker, payload, histogram } = setup(1);
    tracker.onOpen(0);
    tracker.onScheduled(0, 0, true);
    tracker.hold(0);
    tracker.sweep(5000);
    expect(tracker.inFlight).toBe(1); // not settled as lost while the call may still fail
    tracker.onData(0, payload(0), 5000); // too late: 5 s after its schedule, the timeout is 1 s
    tracker.release(0);
    tracker.sweep(5001);
    expect(tracker.lost).toBe(1);
    expect(tracker.delivered).toBe(0);
    expect(histogram.count).toBe(0);
  });

  it('matches by sequence number, reports each settled event, and tracks the peak of open clients', () => {
    const settled: unknown[] = [];
    const tracker = createDeliveryTracker({ clients: 2, marker: createMarkerCodec('x'), timeoutMs: 1000, histogram: createLatencyHistogram(), onSettled: (e) => void settled.push(e) });
    tracker.onOpen(0);
    tracker.onOpen(1);
    tracker.onClose(1);
    expect(tracker.peakOpen).toBe(2);
    tracker.onScheduled(7, 100, true);
    tracker.onSeq(0, 7, 130);
    tracker.sweep(131);
    expect(settled).toEqual([{ seq: 7, scheduledAt: 100, expected: 1, delivered: 1, lastArrivalAt: 130, isVoid: false }]);
  });
});
