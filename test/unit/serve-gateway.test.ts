/** CONTRACTS §5: the gateway's pure parts: the replay buffer, the replay plan, message decoding. */
import { describe, expect, it } from 'vitest';
import { decodeGatewayMessage, GATEWAY_CHANNELS, GATEWAY_EXCHANGES } from '../../src/serve/profiles/gateway.js';
import { createReplayBuffer, planReplay, type BufferedEvent } from '../../src/serve/profiles/gateway-replay.js';

const entry = (id: number): BufferedEvent => ({ id, event: 'deal.created', frames: [Buffer.from(`v1-${id}`), Buffer.from(`v2-${id}`)] });
const fill = (capacity: number, count: number) => {
  const buffer = createReplayBuffer(capacity);
  for (let index = 0; index < count; index += 1) buffer.append(entry);
  return buffer;
};
const ids = (events: readonly BufferedEvent[]): number[] => events.map((event) => event.id);

describe('gateway replay buffer', () => {
  it('issues consecutive ids from 1 and keeps the last `capacity` events', () => {
    const buffer = fill(3, 5);
    expect(buffer.lastId()).toBe(5);
    expect(buffer.oldestId()).toBe(3);
    expect(ids(buffer.after(0))).toEqual([3, 4, 5]);
    expect(ids(buffer.after(3))).toEqual([4, 5]);
    expect(ids(buffer.after(5))).toEqual([]);
  });

  it('is empty before the first event and with capacity 0', () => {
    expect(createReplayBuffer(10).oldestId()).toBeUndefined();
    const none = fill(0, 4);
    expect(none.lastId()).toBe(4);
    expect(none.oldestId()).toBeUndefined();
    expect(none.after(0)).toEqual([]);
  });
});

describe('gateway planReplay', () => {
  it('replays nothing on a first connect', () => {
    expect(planReplay(undefined, fill(5, 3))).toEqual({ events: [] });
    expect(planReplay('', fill(5, 3))).toEqual({ events: [] });
  });

  it('replays exactly the events after a Last-Event-ID still in the buffer', () => {
    const buffer = fill(5, 8); // holds 4..8
    expect(ids(planReplay('6', buffer).events)).toEqual([7, 8]);
    expect(planReplay('6', buffer).truncated).toBeUndefined();
    // The id right before the oldest one held: nothing was lost.
    expect(ids(planReplay('3', buffer).events)).toEqual([4, 5, 6, 7, 8]);
    expect(planReplay('8', buffer)).toEqual({ events: [] });
  });

  it('warns replay_truncated and replays what is left for an id older than the buffer', () => {
    const plan = planReplay('2', fill(5, 8));
    expect(plan.truncated).toEqual({ lastEventId: '2', oldestId: 4 });
    expect(ids(plan.events)).toEqual([4, 5, 6, 7, 8]);
  });

  it('treats an id this process never issued (restart, another process, garbage) as truncated', () => {
    expect(planReplay('99', fill(5, 3)).truncated).toEqual({ lastEventId: '99', oldestId: 1 });
    expect(ids(planReplay('99', fill(5, 3)).events)).toEqual([1, 2, 3]);
    expect(planReplay('abc', fill(5, 3)).truncated).toEqual({ lastEventId: 'abc', oldestId: 1 });
    expect(planReplay('-1', fill(5, 3)).truncated).toBeDefined();
    expect(planReplay('3', fill(0, 5))).toEqual({ events: [], truncated: { lastEventId: '3', oldestId: null } });
    expect(planReplay('5', fill(0, 5))).toEqual({ events: [] });
  });
});

describe('gateway decodeGatewayMessage', () => {
  it('takes the type from the routing key and the body as the payload', () => {
    expect(decodeGatewayMessage('{"deal_id":"d1","title":"m-1"}', 'deal.created')).toEqual({ event: 'deal.created', data: { deal_id: 'd1', title: 'm-1' } });
  });

  it('prefers an {"event","data"} envelope over the routing key', () => {
    expect(decodeGatewayMessage('{"event":"deal.updated","data":{"deal_id":"d1"}}', 'whatever')).toEqual({ event: 'deal.updated', data: { deal_id: 'd1' } });
    expect(decodeGatewayMessage('{"event":"deal.updated","data":{"deal_id":"d1"}}')).toEqual({ event: 'deal.updated', data: { deal_id: 'd1' } });
  });

  it('rejects what it cannot relay', () => {
    expect(decodeGatewayMessage('not json', 'deal.created')).toEqual({ error: 'body is not JSON' });
    expect(decodeGatewayMessage('[1]', 'deal.created')).toEqual({ error: 'body is not a JSON object' });
    expect(decodeGatewayMessage('{"deal_id":1}', '')).toMatchObject({ error: expect.stringMatching(/no event type/) });
  });
});

describe('gateway tables', () => {
  it('has the seed 004 channels, types and exchanges', () => {
    expect(Object.keys(GATEWAY_CHANNELS)).toEqual(['deals', 'tasks', 'notifications', 'payments']);
    expect(Object.values(GATEWAY_CHANNELS).flat()).toHaveLength(12);
    expect(GATEWAY_EXCHANGES).toEqual({ 'crm.domain': 'deals', 'tasks.events': 'tasks', 'notifications.internal': 'notifications', 'payments.status': 'payments' });
  });
});
