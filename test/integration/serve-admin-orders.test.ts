/** CONTRACTS §1 (seed 000) against the running admin-orders profile. */
import { describe, expect, it } from 'vitest';
import { callJson, mintToken, openStream, startTestServer, TOKENS, until } from '../helpers/serve-process.js';

const ORDER = { pickup_address: 'Warehouse A', delivery_address: 'Customer Street 45', boxes_count: 5 };

describe('serve admin-orders (CONTRACTS §1)', () => {
  it('sends the contract headers', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const stream = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    expect(stream.status).toBe(200);
    expect(stream.headers).toMatchObject({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-reconnect-delay': '3000',
    });
  });

  it('POST /orders (admin or store) returns 201 with a server id and broadcasts order.created with no event: field', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const first = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    const second = await openStream(`${server.url}/api/admin/events`, { token: await mintToken({ sub: '2', role: 'admin' }) });
    const created = await callJson('POST', `${server.url}/orders`, { token: await TOKENS.store(), body: ORDER });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...ORDER, order_id: 1 });
    expect(Date.parse(created.body.created_at)).not.toBeNaN();
    for (const stream of [first, second]) {
      const event = await stream.waitForEvent(() => true);
      expect(event.event).toBeUndefined();
      expect(JSON.parse(event.data)).toEqual({ event: 'order.created', data: created.body });
      expect(stream.text()).not.toMatch(/^event:/m);
    }
    const again = await callJson('POST', `${server.url}/orders`, { token: await TOKENS.admin(), body: ORDER });
    expect(again.body.order_id).toBe(2);
  });

  it('keeps extra body fields (a producer marker) and validates the seed fields', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const token = await TOKENS.admin();
    const created = await callJson('POST', `${server.url}/orders`, { token, body: { ...ORDER, marker: 'm-123' } });
    expect(created.body.marker).toBe('m-123');
    for (const body of [{ ...ORDER, boxes_count: 0 }, { ...ORDER, pickup_address: 5 }, { delivery_address: 'x', boxes_count: 1 }]) {
      const answer = await callJson('POST', `${server.url}/orders`, { token, body });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'invalid_field' });
      expect(typeof answer.body.error).toBe('string');
    }
  });

  it('sends :keepalive comments every heartbeat interval', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], heartbeatMs: 100 });
    const stream = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    await stream.waitFor(() => stream.items.filter((item) => item.kind === 'comment' && item.text === 'keepalive').length >= 2, 5000, 'two :keepalive');
    expect(stream.text()).toContain(':keepalive\n\n');
  });

  it('allows 1 stream per admin: a second one ends the older stream (default close-oldest)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const token = await TOKENS.admin();
    const older = await openStream(`${server.url}/api/admin/events`, { token });
    const newer = await openStream(`${server.url}/api/admin/events`, { token });
    expect(newer.status).toBe(200);
    expect(await older.ended).toBe('clean');
    expect(older.text()).toContain(': stream_limit');
    await callJson('POST', `${server.url}/orders`, { token, body: ORDER });
    await newer.waitForEvent(() => true);
  });

  it('answers 409 {"code":"stream_limit"} with --stream-limit-policy reject, and honours --max-streams-per-user', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], streamLimitPolicy: 'reject', maxStreamsPerUser: 2 });
    const token = await TOKENS.admin();
    const a = await openStream(`${server.url}/api/admin/events`, { token });
    const b = await openStream(`${server.url}/api/admin/events`, { token });
    const c = await openStream(`${server.url}/api/admin/events`, { token });
    expect([a.status, b.status, c.status]).toEqual([200, 200, 409]);
    expect(JSON.parse(await c.body())).toMatchObject({ code: 'stream_limit' });
    a.close();
    await until(async () => (await openStream(`${server.url}/api/admin/events`, { token })).status === 200, 5000, 'a free stream slot');
  });

  it('sends retry: first when --retry is set (the seeds send none by default)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], retryMs: 3000 });
    const stream = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    await until(() => stream.text().length > 0, 5000, 'the first bytes');
    expect(stream.text().startsWith('retry: 3000\n\n')).toBe(true);
    const plain = await startTestServer({ profiles: ['admin-orders'] });
    const quiet = await openStream(`${plain.url}/api/admin/events`, { token: await TOKENS.admin() });
    await callJson('POST', `${plain.url}/orders`, { token: await TOKENS.admin(), body: ORDER });
    await quiet.waitForEvent(() => true);
    expect(quiet.text()).not.toContain('retry:');
  });

  it('ends a stream after the inactivity timeout (heartbeats do not count as activity)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], heartbeatMs: 50, inactivityTimeoutMs: 400 });
    const stream = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    expect(await stream.ended).toBe('clean');
    expect(stream.text()).toContain(':keepalive');
  });
});
