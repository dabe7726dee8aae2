/**
 * CONTRACTS §5 (seed 004): the gateway relays its RabbitMQ exchanges (real broker, amqplib
 * publisher in the test) and sends `source_unavailable` warnings while RabbitMQ is unreachable,
 * recovering by itself. The outage is made with a TCP relay in front of the real broker (the
 * shared RabbitMQ itself is never stopped).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import amqp from 'amqplib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { requireBroker } from '../helpers/brokers.js';
import { callJson, mintToken, openStream, startTestServer, type TestStream } from '../helpers/serve-process.js';

const streamUrl = (base: string, channel: string, query = ''): string => `${base}/api/v1/streams/${channel}${query}`;
const warnings = (stream: TestStream) => stream.events().filter((e) => e.event === 'warning');
const countOf = (stream: TestStream, type: string): number => stream.events().filter((e) => e.event === type).length;
const marker = (label: string): string => `gw-${label}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

/** An amqplib publisher with confirms, closed at teardown. */
async function openPublisher(url: string): Promise<(exchange: string, routingKey: string, body: unknown) => Promise<void>> {
  const connection = await amqp.connect(url);
  const channel = await connection.createConfirmChannel();
  onTestFinished(async () => {
    await channel.close().catch(() => undefined);
    await connection.close().catch(() => undefined);
  });
  return async (exchange, routingKey, body) => {
    channel.publish(exchange, routingKey, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), { contentType: 'application/json' });
    await channel.waitForConfirms();
  };
}

/** A TCP relay to the broker that can be cut and restored on the same port (a broker outage). */
async function startRelay(target: URL): Promise<{ port: number; cut: () => Promise<void>; restore: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    const next = createServer((client) => {
      const upstream = connect(Number(target.port || 5672), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen({ host: '127.0.0.1', port }, () => resolve());
    });
    server = next;
    port = (next.address() as { port: number }).port;
  };
  const cut = async (): Promise<void> => {
    const current = server;
    server = undefined;
    const closed = new Promise<void>((resolve) => (current ? current.close(() => resolve()) : resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen();
  onTestFinished(cut);
  return { port, cut, restore: listen };
}

describe('serve gateway --amqp', () => {
  it('streams stay up and get source_unavailable warnings at once and then periodically while RabbitMQ is unreachable', async () => {
    const logs: string[] = [];
    const server = await startTestServer({ profiles: ['gateway'], amqpUrl: 'amqp://guest:hunter2pw@127.0.0.1:1', heartbeatMs: 100, onLog: (line) => logs.push(line) });
    const token = await mintToken({ sub: '42' });
    const deals = await openStream(streamUrl(server.url, 'deals'), { token });
    const payments = await openStream(streamUrl(server.url, 'payments', '?version=2'), { token });
    // The first frame of a stream opened during the outage is the warning.
    expect(deals.text()).toBe('event: warning\ndata: {"code":"source_unavailable","channel":"deals"}\n\n');
    await deals.waitFor(() => warnings(deals).length >= 3, 10_000, 'three warnings');
    await payments.waitFor(() => warnings(payments).length >= 2, 10_000, 'two warnings');
    for (const warning of warnings(deals)) expect(JSON.parse(warning.data)).toEqual({ code: 'source_unavailable', channel: 'deals' });
    expect(JSON.parse(warnings(payments)[0]?.data ?? '')).toEqual({ code: 'source_unavailable', channel: 'payments' });
    // The interval is 2 × heartbeat: heartbeats outnumber warnings.
    expect(countOf(deals, 'heartbeat')).toBeGreaterThan(0);
    // The producer path keeps working without the broker.
    expect((await callJson('POST', `${server.url}/api/v1/streams/deals/events`, { token, body: { event: 'deal.created', data: { deal_id: 'd1' } } })).status).toBe(202);
    expect((await deals.waitForEvent((e) => e.event === 'deal.created')).id).toBe('1');
    expect(server.liveStreams()).toBe(2);
    const unavailable = logs.filter((line) => line.includes('gateway source unavailable'));
    expect(unavailable).toHaveLength(1);
    expect(JSON.parse(unavailable[0] ?? '{}')).toMatchObject({ level: 'warn', source: expect.stringContaining('127.0.0.1:1') });
    expect(logs.join('\n')).not.toContain('hunter2pw');
  });

  it('rejects an --amqp URL that is not amqp:// or amqps://', async () => {
    await expect(startTestServer({ profiles: ['gateway'], amqpUrl: 'http://127.0.0.1:5672' })).rejects.toThrow(/amqp:\/\//);
  });

  it('relays messages published to the four exchanges to the matching channel, and drops what does not fit', async (context) => {
    const brokerUrl = await requireBroker('amqp', context);
    const logs: string[] = [];
    const server = await startTestServer({ profiles: ['gateway'], amqpUrl: brokerUrl, onLog: (line) => logs.push(line) });
    const token = await mintToken({ sub: '42' });
    const streams = {
      deals: await openStream(streamUrl(server.url, 'deals'), { token }),
      dealsV2: await openStream(streamUrl(server.url, 'deals', '?version=2'), { token }),
      tasks: await openStream(streamUrl(server.url, 'tasks'), { token }),
      notifications: await openStream(streamUrl(server.url, 'notifications'), { token }),
      payments: await openStream(streamUrl(server.url, 'payments'), { token }),
    };
    const publish = await openPublisher(brokerUrl);
    const m = marker('relay');
    const deal = { deal_id: 'd-1', client_id: 'c-1', title: m, status: 'draft', created_at: '2024-05-01T10:00:00Z' };
    // Routing key = type, body = payload.
    await publish('crm.domain', 'deal.created', deal);
    // Or an {event, data} body, whose type wins over the routing key.
    await publish('tasks.events', 'tasks.anything', { event: 'task.reminder', data: { task_id: 't-1', remind_at: '2024-05-02T09:00:00Z', channel: 'sse', marker: m } });
    await publish('notifications.internal', 'notification.read', { notification_id: 'n-1', read_at: '2024-05-01T10:00:00Z', marker: m });
    await publish('payments.status', 'payment.status.changed', { payment_id: 'p-1', deal_id: 'd-1', status: 'received', actual_date: '2024-05-01', amount: 12345.67, currency: 'RUB', marker: m });

    const got = await streams.deals.waitForEvent((e) => e.data.includes(m), 10_000);
    expect(got.event).toBe('deal.created');
    expect(got.id).toMatch(/^\d+$/);
    expect(JSON.parse(got.data)).toEqual({ event: 'deal.created', data: deal });
    expect(JSON.parse((await streams.dealsV2.waitForEvent((e) => e.data.includes(m), 10_000)).data)).toMatchObject({ event: 'deal.created', data: deal, version: 2, channel: 'deals' });
    expect((await streams.tasks.waitForEvent((e) => e.data.includes(m), 10_000)).event).toBe('task.reminder');
    expect((await streams.notifications.waitForEvent((e) => e.data.includes(m), 10_000)).event).toBe('notification.read');
    const payment = await streams.payments.waitForEvent((e) => e.data.includes(m), 10_000);
    expect(JSON.parse(payment.data).data).toMatchObject({ amount: 12345.67, currency: 'RUB', marker: m });
    // Each message went to its own channel only.
    expect(streams.deals.events().filter((e) => e.data.includes(m))).toHaveLength(1);

    // A type the channel does not carry, and a non-JSON body, are dropped; the next good one arrives.
    const dropped = marker('dropped');
    await publish('crm.domain', 'task.created', { task_id: 't-2', marker: dropped });
    await publish('crm.domain', 'deal.updated', `not json ${dropped}`);
    const after = marker('after');
    await publish('crm.domain', 'deal.updated', { deal_id: 'd-1', changes: { status: 'issuing' }, marker: after });
    await streams.deals.waitForEvent((e) => e.data.includes(after), 10_000);
    expect(streams.deals.text()).not.toContain(dropped);
    expect(logs.some((line) => line.includes('does not carry') && line.includes('task.created'))).toBe(true);
    expect(logs.some((line) => line.includes('ignored an AMQP message'))).toBe(true);
    expect(warnings(streams.deals)).toEqual([]);
  });

  it('warns at the moment RabbitMQ is lost, every interval while it is away, and stops once it reconnected by itself', async (context) => {
    const brokerUrl = new URL(await requireBroker('amqp', context));
    const relay = await startRelay(brokerUrl);
    const viaRelay = new URL(brokerUrl.href);
    viaRelay.port = String(relay.port);
    // Heartbeat 1 s → warnings every 2 s: a warning within 1.5 s of the cut is the one sent at the moment of loss.
    const server = await startTestServer({ profiles: ['gateway'], amqpUrl: viaRelay.href, heartbeatMs: 1000 });
    const token = await mintToken({ sub: '42' });
    const stream = await openStream(streamUrl(server.url, 'notifications'), { token });
    const publish = await openPublisher(brokerUrl.href);
    const before = marker('before');
    await publish('notifications.internal', 'notification.sent', { notification_id: 'n-1', title: before });
    await stream.waitForEvent((e) => e.data.includes(before), 10_000);
    expect(warnings(stream)).toEqual([]);

    await relay.cut();
    await stream.waitFor(() => warnings(stream).length >= 1, 1500, 'the warning at the moment of loss');
    await stream.waitFor(() => warnings(stream).length >= 2, 10_000, 'a periodic warning');
    expect(JSON.parse(warnings(stream)[0]?.data ?? '')).toEqual({ code: 'source_unavailable', channel: 'notifications' });
    expect(server.liveStreams()).toBe(1);

    await relay.restore();
    // Until the consumer has rebound its queue, messages are not routed to it: publish until one arrives.
    const back = marker('back');
    let attempt = 0;
    const isBack = (): boolean => stream.events().some((e) => e.data.includes(back));
    while (!isBack()) {
      attempt += 1;
      expect(attempt, 'the consumer did not come back within ~20 s').toBeLessThan(100);
      await publish('notifications.internal', 'notification.read', { notification_id: `n-${attempt}`, read_at: back });
      await stream.waitForEvent((e) => e.data.includes(back), 200).catch(() => undefined);
    }
    // Warnings have stopped: over 3 heartbeats (1.5 warning intervals), none more.
    const warned = warnings(stream).length;
    const beats = countOf(stream, 'heartbeat');
    await stream.waitFor(() => countOf(stream, 'heartbeat') >= beats + 3, 10_000, 'three more heartbeats');
    expect(warnings(stream).length).toBe(warned);
  });
});
