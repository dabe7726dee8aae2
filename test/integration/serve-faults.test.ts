/** The fault switches (issue 3 "Faults, to test the tester"): each one is observable from outside. */
import { describe, expect, it } from 'vitest';
import { parseFaults } from '../../src/serve/faults.js';
import { callJson, metricValue, openStream, startTestServer, TOKENS, until } from '../helpers/serve-process.js';

const ORDER = { pickup_address: 'a', delivery_address: 'b', boxes_count: 1 };

async function metrics(url: string): Promise<string> {
  return (await callJson('GET', `${url}/metrics`)).body as string;
}

describe('serve --fault', () => {
  it('leak: closed streams stay in the gauge and the stats (the seed 003 registry bug)', async () => {
    const server = await startTestServer({ faults: parseFaults(['leak']) });
    const superadmin = await TOKENS.superadmin();
    const stream = await openStream(`${server.url}/api/v1/notifications/customer/stream`, { token: await TOKENS.customer() });
    await stream.waitForEvent((e) => e.event === 'connected');
    stream.close();
    await until(() => server.liveStreams() === 0, 5000, 'the server to see the close');
    expect(metricValue(await metrics(server.url), 'sse_connections_active{role="customer"}')).toBe(1);
    const stats = await callJson('GET', `${server.url}/api/v1/notifications/stream/stats`, { token: superadmin });
    expect(stats.body).toMatchObject({ active_customer_connections: 1, total_connections: 1 });
  });

  it('delay: holds each delivery for the delay on the hub clock, then writes it', async () => {
    let nowMs = 1_000_000;
    const server = await startTestServer({ profiles: ['admin-orders'], heartbeatMs: 100, now: () => nowMs, faults: parseFaults(['delay=300ms']) });
    const token = await TOKENS.admin();
    const stream = await openStream(`${server.url}/api/admin/events`, { token });
    // The memory bus hands the event to the hub before POST answers: it is held from here.
    await callJson('POST', `${server.url}/orders`, { token, body: ORDER });
    nowMs += 299;
    // A sweep releases due events before it writes heartbeats, so a keepalive written at +299 ms
    // with no event ahead of it proves the event was still held then.
    await stream.waitFor((item) => item.kind === 'comment', 5000, 'a keepalive at +299 ms');
    expect(stream.events()).toHaveLength(0);
    nowMs += 1;
    const event = await stream.waitForEvent(() => true);
    expect(JSON.parse(event.data)).toMatchObject({ event: 'order.created', data: { order_id: 1 } });
    expect(stream.items[0]).toMatchObject({ kind: 'comment', text: 'keepalive' });
  });

  it('drop=0.5: skips every other delivery and counts it; drop=1 delivers nothing', async () => {
    for (const [fraction, expected] of [['0.5', [1, 3]], ['1', []]] as const) {
      const server = await startTestServer({ profiles: ['admin-orders'], faults: parseFaults([`drop=${fraction}`]) });
      const token = await TOKENS.admin();
      const stream = await openStream(`${server.url}/api/admin/events`, { token });
      for (let i = 0; i < 4; i += 1) await callJson('POST', `${server.url}/orders`, { token, body: ORDER });
      await until(async () => metricValue(await metrics(server.url), 'sse_events_dropped_total{reason="fault"}') === 4 - expected.length, 5000, 'dropped deliveries');
      expect(metricValue(await metrics(server.url), 'admin_events_emitted_total{event_type="order.created"}')).toBe(4);
      if (expected.length > 0) await stream.waitForEvent((e) => JSON.parse(e.data).data.order_id === expected[expected.length - 1]);
      expect(stream.events().map((e) => JSON.parse(e.data).data.order_id)).toEqual(expected);
    }
  });

  it('stall-after: stops writing (events and heartbeats) but keeps the socket open', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], heartbeatMs: 50, faults: parseFaults(['stall-after=300ms']) });
    const token = await TOKENS.admin();
    const stream = await openStream(`${server.url}/api/admin/events`, { token });
    await stream.waitFor((item) => item.kind === 'comment', 5000, 'a keepalive before the stall');
    await until(async () => {
      await callJson('POST', `${server.url}/orders`, { token, body: ORDER });
      return metricValue(await metrics(server.url), 'sse_events_dropped_total{reason="stalled"}') > 0;
    }, 5000, 'the stream to stall');
    const textAtStall = stream.text();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stream.text()).toBe(textAtStall);
    expect(server.liveStreams()).toBe(1);
    const ended = await Promise.race([stream.ended, new Promise((resolve) => setTimeout(() => resolve('open'), 50))]);
    expect(ended).toBe('open');
  });

  it('close-every: destroys streams abruptly (no clean end)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], faults: parseFaults(['close-every=200ms']) });
    const stream = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    expect(await stream.ended).toBe('aborted');
  });
});
