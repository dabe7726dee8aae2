/** CONTRACTS §5 (seed 004) against the running gateway profile, in process, no broker. */
import { describe, expect, it } from 'vitest';
import { GATEWAY_CHANNELS } from '../../src/serve/profiles/gateway.js';
import { callJson, metricValue, mintToken, openStream, startTestServer, until, type TestStream } from '../helpers/serve-process.js';

const streamUrl = (base: string, channel: string, query = ''): string => `${base}/api/v1/streams/${channel}${query}`;
const produceUrl = (base: string, channel: string): string => `${base}/api/v1/streams/${channel}/events`;
const user = (sub = '42', extra: Record<string, unknown> = {}) => mintToken({ sub, ...extra });
const produce = (base: string, token: string, channel: string, event: string, data: unknown) => callJson('POST', produceUrl(base, channel), { token, body: { event, data } });
const domainEvents = (stream: TestStream) => stream.events().filter((e) => e.event !== 'heartbeat' && e.event !== 'warning');

describe('serve gateway (CONTRACTS §5)', () => {
  it('answers an unknown channel 404, no or bad token 401, and opens a stream with the SSE headers', async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const unknown = await callJson('GET', streamUrl(server.url, 'orders'), { token: await user() });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'not_found', error: expect.stringContaining('deals') });
    expect((await callJson('GET', streamUrl(server.url, 'deals'))).status).toBe(401);
    expect((await callJson('GET', streamUrl(server.url, 'deals'), { token: 'not.a.jwt' })).status).toBe(401);
    expect((await callJson('GET', streamUrl(server.url, 'deals'), { token: await mintToken({ sub: '42' }, { secret: 'other-secret' }) })).status).toBe(401);
    const expired = await callJson('GET', streamUrl(server.url, 'deals'), { token: await mintToken({ sub: '42' }, { expiresAt: Math.floor(Date.now() / 1000) - 3600 }) });
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ code: 'token_expired' });
    // Any role, or none, may connect: access is the `channels` claim.
    for (const token of [await user(), await mintToken({ sub: '7', role: 'customer' }), await mintToken({ sub: '8', role: 'finance-manager' })]) {
      const stream = await openStream(streamUrl(server.url, 'deals'), { token });
      expect(stream.status).toBe(200);
      expect(stream.headers).toMatchObject({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-stream-version': '1' });
    }
  });

  it('sends event: error {"code":"forbidden"} then closes for a channel missing from the channels claim', async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const token = await user('42', { channels: ['tasks', 'payments'] });
    const denied = await openStream(streamUrl(server.url, 'deals'), { token });
    expect(denied.status).toBe(200);
    expect(await denied.ended).toBe('clean');
    expect(denied.events()).toEqual([{ event: 'error', data: '{"code":"forbidden"}', id: undefined }]);
    expect(denied.text()).toBe('event: error\ndata: {"code":"forbidden"}\n\n');
    // A channels claim that is not an array allows nothing.
    const odd = await openStream(streamUrl(server.url, 'tasks'), { token: await user('43', { channels: 'tasks' }) });
    expect(await odd.ended).toBe('clean');
    expect(odd.events()[0]).toMatchObject({ event: 'error', data: '{"code":"forbidden"}' });
    // The listed channel works, and the producer path honours the same claim.
    const allowed = await openStream(streamUrl(server.url, 'tasks'), { token });
    expect((await produce(server.url, token, 'tasks', 'task.created', { task_id: 't1' })).status).toBe(202);
    await allowed.waitForEvent((e) => e.event === 'task.created');
    const forbidden = await produce(server.url, token, 'deals', 'deal.created', { deal_id: 'd1' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ code: 'forbidden' });
    // Forbidden attempts take no slot: after five more of them, four more allowed streams fit (5 in all).
    for (let index = 0; index < 5; index += 1) await openStream(streamUrl(server.url, 'deals'), { token });
    const more: number[] = [];
    for (let index = 0; index < 4; index += 1) more.push((await openStream(streamUrl(server.url, 'payments'), { token })).status);
    expect(more).toEqual([200, 200, 200, 200]);
    expect(server.liveStreams()).toBe(5);
  });

  it("relays every seed type on its own channel with id:, event: and the {event,data} JSON", async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const token = await user();
    const streams = new Map<string, TestStream>();
    for (const channel of Object.keys(GATEWAY_CHANNELS)) streams.set(channel, await openStream(streamUrl(server.url, channel), { token }));
    const expected = new Map<string, Array<{ event: string; data: Record<string, unknown> }>>();
    for (const [channel, types] of Object.entries(GATEWAY_CHANNELS)) {
      for (const event of types) {
        const data = { marker: `${channel}/${event}`, amount: 12345.67, nested: { status: 'ok' } };
        const answer = await produce(server.url, token, channel, event, data);
        expect(answer.status).toBe(202);
        expect(answer.body).toEqual({ channel, event, data });
        expected.set(channel, [...(expected.get(channel) ?? []), { event, data }]);
      }
    }
    for (const [channel, stream] of streams) {
      const want = expected.get(channel) ?? [];
      await stream.waitFor(() => domainEvents(stream).length >= want.length, 5000, `${want.length} events on ${channel}`);
      const got = domainEvents(stream);
      expect(got.map((e) => e.event)).toEqual(want.map((w) => w.event));
      expect(got.map((e) => e.id)).toEqual(want.map((_w, index) => String(index + 1)));
      expect(got.map((e) => JSON.parse(e.data))).toEqual(want);
    }
    expect(streams.get('deals')?.text()).toContain('id: 1\nevent: deal.created\ndata: {"event":"deal.created","data":{"marker":"deals/deal.created"');
  });

  it('validates producer bodies: unknown type, another channel\'s type, non-object data, bad JSON, unknown channel', async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const token = await user();
    const stream = await openStream(streamUrl(server.url, 'deals'), { token });
    for (const [body, code] of [
      [{ event: 'deal.deleted', data: {} }, 'unknown_event'],
      [{ event: 'task.created', data: {} }, 'unknown_event'],
      [{ event: 'deal.created', data: [1, 2] }, 'invalid_field'],
      [{ event: 'deal.created' }, 'invalid_field'],
      [{ data: {} }, 'invalid_field'],
    ] as const) {
      const answer = await callJson('POST', produceUrl(server.url, 'deals'), { token, body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body).toMatchObject({ code, error: expect.any(String) });
    }
    expect((await callJson('POST', produceUrl(server.url, 'deals'), { token, rawBody: '{"event":' })).body).toMatchObject({ code: 'malformed_json' });
    expect((await callJson('POST', produceUrl(server.url, 'nope'), { token, body: { event: 'deal.created', data: {} } })).status).toBe(404);
    expect((await callJson('POST', produceUrl(server.url, 'deals'), { body: { event: 'deal.created', data: {} } })).status).toBe(401);
    // Nothing invalid reached the stream; the next valid event is id 1.
    await produce(server.url, token, 'deals', 'deal.created', { deal_id: 'ok' });
    expect((await stream.waitForEvent((e) => e.event === 'deal.created')).id).toBe('1');
    expect(domainEvents(stream)).toHaveLength(1);
  });

  it('numbers events per channel and replays the missed ones after Last-Event-ID, then goes live', async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const token = await user();
    for (let index = 1; index <= 4; index += 1) await produce(server.url, token, 'deals', 'deal.updated', { deal_id: 'd1', version: index });
    await produce(server.url, token, 'tasks', 'task.created', { task_id: 't1' });
    const resumed = await openStream(streamUrl(server.url, 'deals'), { token, headers: { 'Last-Event-ID': '2' } });
    await resumed.waitFor(() => domainEvents(resumed).length >= 2, 5000, 'two replayed events');
    await produce(server.url, token, 'deals', 'deal.updated', { deal_id: 'd1', version: 5 });
    await resumed.waitFor(() => domainEvents(resumed).length >= 3, 5000, 'the live event');
    expect(domainEvents(resumed).map((e) => [e.id, JSON.parse(e.data).data.version])).toEqual([['3', 3], ['4', 4], ['5', 5]]);
    // tasks has its own sequence.
    const tasks = await openStream(streamUrl(server.url, 'tasks'), { token, headers: { 'Last-Event-ID': '0' } });
    expect((await tasks.waitForEvent((e) => e.event === 'task.created')).id).toBe('1');
    // Up to date: nothing replayed, no warning.
    const current = await openStream(streamUrl(server.url, 'deals'), { token, headers: { 'Last-Event-ID': '5' } });
    await produce(server.url, token, 'deals', 'deal.created', { deal_id: 'd2' });
    await current.waitForEvent((e) => e.event === 'deal.created');
    expect(current.events().map((e) => e.id)).toEqual(['6']);
  });

  it('answers an id it never issued with event: warning replay_truncated, then everything buffered', async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const token = await user();
    await produce(server.url, token, 'payments', 'payment.overdue', { payment_id: 'p1' });
    await produce(server.url, token, 'payments', 'payment.status.changed', { payment_id: 'p1', status: 'received' });
    const stream = await openStream(streamUrl(server.url, 'payments'), { token, headers: { 'Last-Event-ID': '999' } });
    await stream.waitFor(() => domainEvents(stream).length >= 2, 5000, 'the buffered events');
    const [warning, ...rest] = stream.events();
    expect(warning).toMatchObject({ event: 'warning' });
    expect(JSON.parse(warning?.data ?? '')).toEqual({ code: 'replay_truncated', channel: 'payments', last_event_id: '999', oldest_id: 1 });
    expect(rest.map((e) => e.id)).toEqual(['1', '2']);
  });

  it('?version=2 adds version, channel, id and emitted_at; version 1 is the default; others are 400', async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const token = await user();
    const v1 = await openStream(streamUrl(server.url, 'notifications', '?version=1'), { token });
    const v2 = await openStream(streamUrl(server.url, 'notifications', '?version=2'), { token });
    expect(v2.headers['x-stream-version']).toBe('2');
    const data = { notification_id: 'n1', template: 'deal.status.changed', title: 't', body: 'b', created_at: '2024-01-01T00:00:00Z' };
    await produce(server.url, token, 'notifications', 'notification.sent', data);
    expect(JSON.parse((await v1.waitForEvent((e) => e.event === 'notification.sent')).data)).toEqual({ event: 'notification.sent', data });
    const second = await v2.waitForEvent((e) => e.event === 'notification.sent');
    expect(second.id).toBe('1');
    const parsed = JSON.parse(second.data);
    expect(parsed).toEqual({ event: 'notification.sent', data, version: 2, channel: 'notifications', id: 1, emitted_at: expect.any(String) });
    expect(Date.parse(parsed.emitted_at)).not.toBeNaN();
    // Replay honours the version too.
    const replayed = await openStream(streamUrl(server.url, 'notifications', '?version=2'), { token, headers: { 'Last-Event-ID': '0' } });
    expect(JSON.parse((await replayed.waitForEvent((e) => e.event === 'notification.sent')).data)).toEqual(parsed);
    for (const version of ['3', 'two', '0']) {
      const answer = await callJson('GET', streamUrl(server.url, 'notifications', `?version=${version}`), { token });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ code: 'unsupported_version' });
    }
  });

  it('sends event: heartbeat with empty data every heartbeat interval, without an id', async () => {
    const server = await startTestServer({ profiles: ['gateway'], heartbeatMs: 100 });
    const stream = await openStream(streamUrl(server.url, 'deals'), { token: await user() });
    await stream.waitFor(() => stream.events().filter((e) => e.event === 'heartbeat').length >= 3, 5000, 'three heartbeats');
    for (const heartbeat of stream.events()) expect(heartbeat).toEqual({ event: 'heartbeat', data: '', id: undefined });
    expect(stream.text()).toMatch(/^event: heartbeat\ndata:\n\n/);
  });

  it('allows 5 streams per user over all channels: the 6th gets 409 {"code":"stream_limit"}', async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const token = await user('42');
    const channels = ['deals', 'tasks', 'notifications', 'payments', 'deals'];
    const open: TestStream[] = [];
    for (const channel of channels) open.push(await openStream(streamUrl(server.url, channel), { token }));
    expect(open.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    const sixth = await openStream(streamUrl(server.url, 'tasks'), { token });
    expect(sixth.status).toBe(409);
    expect(JSON.parse(await sixth.body())).toMatchObject({ code: 'stream_limit' });
    // Another user is not affected; closing one stream frees a slot.
    expect((await openStream(streamUrl(server.url, 'tasks'), { token: await user('43') })).status).toBe(200);
    open[0]?.close();
    await until(async () => (await openStream(streamUrl(server.url, 'tasks'), { token })).status === 200, 5000, 'a free slot');
  });

  it('honours --max-streams-per-user and --stream-limit-policy close-oldest', async () => {
    const server = await startTestServer({ profiles: ['gateway'], maxStreamsPerUser: 2, streamLimitPolicy: 'close-oldest' });
    const token = await user('42');
    const first = await openStream(streamUrl(server.url, 'deals'), { token });
    const second = await openStream(streamUrl(server.url, 'tasks'), { token });
    const third = await openStream(streamUrl(server.url, 'payments'), { token });
    expect([first.status, second.status, third.status]).toEqual([200, 200, 200]);
    expect(await first.ended).toBe('clean');
    expect(server.liveStreams()).toBe(2);
  });

  it('counts gateway streams by role and emitted/delivered events in /metrics', async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const token = await mintToken({ sub: '5', role: 'manager' });
    const a = await openStream(streamUrl(server.url, 'deals'), { token });
    const b = await openStream(streamUrl(server.url, 'deals', '?version=2'), { token });
    await produce(server.url, token, 'deals', 'calculation.added', { calculation_id: 'c1', premium_amount: 12345.67 });
    await a.waitForEvent((e) => e.event === 'calculation.added');
    await b.waitForEvent((e) => e.event === 'calculation.added');
    const text = (await callJson('GET', `${server.url}/metrics`)).body as string;
    expect(metricValue(text, 'sse_connections_active{role="manager"}')).toBe(2);
    expect(metricValue(text, 'admin_events_emitted_total{event_type="calculation.added"}')).toBe(1);
    expect(metricValue(text, 'sse_events_delivered_total{profile="gateway"}')).toBe(2);
  });

  it('lists the gateway routes on GET /', async () => {
    const server = await startTestServer({ profiles: ['gateway'] });
    const index = await callJson('GET', `${server.url}/`);
    expect(index.body.profiles).toEqual([
      expect.objectContaining({
        name: 'gateway',
        contract: '§5',
        routes: [expect.objectContaining({ method: 'GET', path: '/api/v1/streams/{channel}', isStream: true }), expect.objectContaining({ method: 'POST', path: '/api/v1/streams/{channel}/events' })],
      }),
    ]);
  });
});
