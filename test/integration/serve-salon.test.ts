/** CONTRACTS §3 (seed 002) against the running salon profile. */
import { describe, expect, it } from 'vitest';
import { callJson, mintToken, openStream, startTestServer, TOKENS, until, type TestStream } from '../helpers/serve-process.js';

const ADMIN_STREAM = '/api/v1/notifications/stream';
const CUSTOMER_STREAM = '/api/v1/notifications/customer/stream';
const admin = (sub: string, salon: number): Promise<string> => mintToken({ sub, role: 'admin', salon_id: salon });
const notifications = (stream: TestStream): unknown[] => stream.events().filter((e) => e.event === 'notification').map((e) => JSON.parse(e.data));

describe('serve salon (CONTRACTS §3)', () => {
  it('sends connected first on every connect, then ping with a JSON timestamp', async () => {
    const server = await startTestServer({ profiles: ['salon'], heartbeatMs: 100 });
    const stream = await openStream(`${server.url}${ADMIN_STREAM}`, { token: await admin('101', 1) });
    expect(stream.status).toBe(200);
    const connected = await stream.waitForEvent(() => true);
    expect(connected.event).toBe('connected');
    expect(JSON.parse(connected.data)).toMatchObject({ status: 'connected', salon_id: 1, user_id: 101 });
    const ping = await stream.waitForEvent((e) => e.event === 'ping');
    expect(Date.parse(JSON.parse(ping.data).timestamp)).not.toBeNaN();
  });

  it('routes salon → all admins of the salon, user → one admin, customer → one customer (with its salon filter)', async () => {
    const server = await startTestServer({ profiles: ['salon'] });
    const open = async (path: string, token: string): Promise<TestStream> => {
      const stream = await openStream(`${server.url}${path}`, { token });
      await stream.waitForEvent((e) => e.event === 'connected');
      return stream;
    };
    const a101 = await open(ADMIN_STREAM, await admin('101', 1));
    const a102 = await open(ADMIN_STREAM, await admin('102', 1));
    const a201 = await open(ADMIN_STREAM, await admin('201', 2));
    const c501 = await open(CUSTOMER_STREAM, await TOKENS.customer('501'));
    const c501salon2 = await open(`${CUSTOMER_STREAM}?salon_id=2`, await TOKENS.customer('501'));
    const c502 = await open(CUSTOMER_STREAM, await TOKENS.customer('502'));
    const superadmin = await TOKENS.superadmin();
    const post = async (body: Record<string, unknown>): Promise<Record<string, unknown>> => {
      const answer = await callJson('POST', `${server.url}/api/v1/notifications`, { token: superadmin, body });
      expect(answer.status).toBe(201);
      return answer.body;
    };
    const toSalon = await post({ notification_type: 'new_appointment', title: 'New', message: 'm', recipient_type: 'salon', salon_id: 1, entity_type: 'appointment', entity_id: 789 });
    const toUser = await post({ title: 'For 102', recipient_type: 'user', salon_id: 1, recipient_id: 102 });
    const toCustomer = await post({ title: 'For 501', recipient_type: 'customer', recipient_id: 501, salon_id: 1, extra_data: { service_name: 'Haircut' } });
    const marker = await post({ title: 'last', recipient_type: 'salon', salon_id: 2 });
    await a201.waitForEvent((e) => e.event === 'notification' && JSON.parse(e.data).id === marker['id']);
    await c501.waitForEvent((e) => e.event === 'notification');
    await a102.waitForEvent((e) => e.event === 'notification' && JSON.parse(e.data).id === toUser['id']);
    expect(notifications(a101)).toEqual([toSalon]);
    expect(notifications(a102)).toEqual([toSalon, toUser]);
    expect(notifications(a201)).toEqual([marker]);
    expect(notifications(c501)).toEqual([toCustomer]);
    expect(notifications(c501salon2)).toEqual([]);
    expect(notifications(c502)).toEqual([]);
    expect(Object.keys(toCustomer).sort()).toEqual(['created_at', 'entity_id', 'entity_type', 'extra_data', 'id', 'is_read', 'message', 'notification_type', 'recipient_id', 'recipient_type', 'salon_id', 'title']);
    expect(toCustomer).toMatchObject({ is_read: false, recipient_type: 'customer', recipient_id: 501, salon_id: 1, extra_data: { service_name: 'Haircut' } });
  });

  it('lets an admin notify its own salon only, and validates the producer body', async () => {
    const server = await startTestServer({ profiles: ['salon'] });
    const token = await admin('101', 1);
    const own = await callJson('POST', `${server.url}/api/v1/notifications`, { token, body: { title: 't', recipient_type: 'salon' } });
    expect(own.status).toBe(201);
    expect(own.body.salon_id).toBe(1);
    expect((await callJson('POST', `${server.url}/api/v1/notifications`, { token, body: { recipient_type: 'salon', salon_id: 2 } })).status).toBe(403);
    expect((await callJson('POST', `${server.url}/api/v1/notifications`, { token, body: { recipient_type: 'everyone' } })).body).toMatchObject({ code: 'invalid_field' });
    expect((await callJson('POST', `${server.url}/api/v1/notifications`, { token, body: { recipient_type: 'user' } })).status).toBe(400);
  });

  it('refuses an admin without salon_id (403) and a non-customer on the customer stream (403)', async () => {
    const server = await startTestServer({ profiles: ['salon'] });
    const noSalon = await openStream(`${server.url}${ADMIN_STREAM}`, { token: await mintToken({ sub: '9', role: 'admin' }) });
    expect(noSalon.status).toBe(403);
    expect(JSON.parse(await noSalon.body())).toMatchObject({ code: 'no_salon' });
    const wrongRole = await openStream(`${server.url}${CUSTOMER_STREAM}`, { token: await admin('101', 1) });
    expect(wrongRole.status).toBe(403);
  });

  it('serves stats to a superadmin only, in the seed shape', async () => {
    const server = await startTestServer({ profiles: ['salon'] });
    const s1 = await openStream(`${server.url}${ADMIN_STREAM}`, { token: await admin('101', 1) });
    const s2 = await openStream(`${server.url}${ADMIN_STREAM}`, { token: await admin('103', 2) });
    const s3 = await openStream(`${server.url}${CUSTOMER_STREAM}`, { token: await TOKENS.customer('501') });
    await Promise.all([s1, s2, s3].map((s) => s.waitForEvent((e) => e.event === 'connected')));
    const stats = await callJson('GET', `${server.url}/api/v1/notifications/stream/stats`, { token: await TOKENS.superadmin() });
    expect(stats.status).toBe(200);
    expect(stats.body).toEqual({ active_admin_connections: 2, active_customer_connections: 1, total_connections: 3, admins: [[1, 101], [2, 103]], customers: [501] });
    expect((await callJson('GET', `${server.url}/api/v1/notifications/stream/stats`, { token: await admin('101', 1) })).status).toBe(403);
    s3.close();
    const superadmin = await TOKENS.superadmin();
    await until(async () => (await callJson('GET', `${server.url}/api/v1/notifications/stream/stats`, { token: superadmin })).body.total_connections === 2, 5000, 'the closed stream to leave the stats');
  });
});
