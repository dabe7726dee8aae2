/** CONTRACTS §4 (seed 003) against the running store profile. */
import { describe, expect, it } from 'vitest';
import { callJson, mintToken, openStream, startTestServer, TOKENS } from '../helpers/serve-process.js';

const STREAM = '/admin/orders/sse';

describe('serve store (CONTRACTS §4)', () => {
  it('sends initial (the full order list) first, then every event type, scoped to the store', async () => {
    const server = await startTestServer({ profiles: ['store'] });
    const token = await TOKENS.admin();
    const existing = await callJson('POST', `${server.url}/admin/orders`, { token, body: { table_id: 3, session_id: 's1', items: [{ name: 'tea' }] } });
    expect(existing.status).toBe(201);
    expect(existing.body).toMatchObject({ order_id: 1, store_id: 1, table_id: 3, session_id: 's1', status: 'pending' });
    const stream = await openStream(`${server.url}${STREAM}`, { token });
    const other = await openStream(`${server.url}${STREAM}`, { token: await mintToken({ sub: '2', role: 'admin', store_id: 2 }) });
    expect(stream.headers).toMatchObject({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', connection: 'keep-alive' });
    const initial = await stream.waitForEvent(() => true);
    expect(initial.event).toBe('initial');
    expect(JSON.parse(initial.data)).toEqual([existing.body]);
    expect(JSON.parse((await other.waitForEvent(() => true)).data)).toEqual([]);

    const created = await callJson('POST', `${server.url}/admin/orders`, { token, body: { table_id: 4, session_id: 's2' } });
    const id = created.body.order_id;
    expect((await callJson('PATCH', `${server.url}/admin/orders/${id}`, { token, body: { status: 'cooking' } })).body).toEqual({ order_id: id, status: 'cooking' });
    expect((await callJson('DELETE', `${server.url}/admin/orders/${id}`, { token })).body).toEqual({ order_id: id, table_id: 4 });
    expect((await callJson('POST', `${server.url}/admin/sessions/end`, { token, body: { table_id: 3, session_id: 's1' } })).body).toEqual({ table_id: 3, session_id: 's1' });
    await stream.waitForEvent((e) => e.event === 'session_ended');
    expect(stream.events().map((e) => [e.event, JSON.parse(e.data)])).toEqual([
      ['initial', [existing.body]],
      ['order_created', created.body],
      ['order_updated', { order_id: id, status: 'cooking' }],
      ['order_deleted', { order_id: id, table_id: 4 }],
      ['session_ended', { table_id: 3, session_id: 's1' }],
    ]);
    expect(other.events().map((e) => e.event)).toEqual(['initial']);

    // The list followed the events: a new stream's initial is empty again (session ended, order deleted).
    const later = await openStream(`${server.url}${STREAM}`, { token });
    expect(JSON.parse((await later.waitForEvent(() => true)).data)).toEqual([]);
  });

  it('sends ": ping" only after a heartbeat interval without events', async () => {
    const server = await startTestServer({ profiles: ['store'], heartbeatMs: 150 });
    const stream = await openStream(`${server.url}${STREAM}`, { token: await TOKENS.admin() });
    await stream.waitFor((item) => item.kind === 'comment' && item.text === 'ping', 5000, ': ping');
    expect(stream.text()).toContain(': ping\n\n');
  });

  it('answers 404 for an unknown order, 403 without store_id, 400 for a bad body', async () => {
    const server = await startTestServer({ profiles: ['store'] });
    const token = await TOKENS.admin();
    expect((await callJson('PATCH', `${server.url}/admin/orders/999`, { token, body: { status: 'x' } })).body).toMatchObject({ code: 'order_not_found' });
    expect((await callJson('DELETE', `${server.url}/admin/orders/999`, { token })).status).toBe(404);
    const noStore = await openStream(`${server.url}${STREAM}`, { token: await mintToken({ sub: '5', role: 'admin' }) });
    expect(noStore.status).toBe(403);
    expect((await callJson('POST', `${server.url}/admin/orders`, { token, body: { items: [] } })).status).toBe(400);
    expect((await callJson('POST', `${server.url}/admin/sessions/end`, { token, body: { table_id: 1 } })).status).toBe(400);
  });
});
