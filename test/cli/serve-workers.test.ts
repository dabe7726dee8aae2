/**
 * `serve --workers 2` (issue 14 point 3): two worker processes on one port. An event produced on
 * either worker reaches every stream on both; `/metrics` and the salon's JSON stats report the
 * whole server with a per-worker label; per-user limits hold across workers; the gateway's ids
 * agree across workers; a worker that dies is replaced, its clients' reconnects succeed and the
 * replacement resumes gateway streams from the primary's history. Every answer says which worker
 * gave it (`X-Ssekit-Worker`), which is how these tests know a request crossed workers.
 */
import { request as httpRequest } from 'node:http';
import amqp from 'amqplib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { requireBroker } from '../helpers/brokers.js';
import { startCli, type CliProcess } from '../helpers/run-cli.js';
import { callJson, metricValue, mintToken, openStream, until, type TestStream } from '../helpers/serve-process.js';

const LISTENING = /^ssekit serve listening on (http:\/\/127\.0\.0\.1:\d+)$/;
const ORDER = { pickup_address: 'a', delivery_address: 'b', boxes_count: 1 };

interface Cluster {
  readonly cli: CliProcess;
  readonly url: string;
  readonly pids: readonly number[];
}

async function startWorkers(args: readonly string[] = []): Promise<Cluster> {
  const cli = startCli(['serve', '--workers', '2', '--port', '0', '--heartbeat', '1s', ...args]);
  const url = LISTENING.exec(await cli.waitForLine(LISTENING, 20_000))?.[1] as string;
  const pids = (/^workers: 2 \(pids (\d+), (\d+)\)$/.exec(await cli.waitForLine(/^workers: /)) ?? []).slice(1).map(Number);
  return { cli, url, pids };
}

/** A request on a connection of its own (round-robin then spreads them over the workers). */
function requestOnce(method: string, url: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: any; worker: string }> {
  return new Promise((resolve, reject) => {
    const text = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...(text === undefined ? {} : { 'Content-Type': 'application/json' }), ...(options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` }) };
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (data += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data === '' ? undefined : JSON.parse(data), worker: String(res.headers['x-ssekit-worker']) }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** Sums a family's samples over the `worker` label: `sse_connections_active{role="admin"` → every worker's. */
function sumOverWorkers(text: string, prefix: string): number {
  return text.split('\n').filter((line) => line.startsWith(prefix) && /worker="\d+"\}/.test(line)).reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function metrics(url: string): Promise<string> {
  return (await callJson('GET', `${url}/metrics`)).body as string;
}

const workerOf = (stream: TestStream): string => String(stream.headers['x-ssekit-worker']);

describe('serve --workers', () => {
  it('delivers an event produced on either worker to every stream on both, and reports the whole server per worker', async () => {
    const { url } = await startWorkers(['--profile', 'admin-orders,salon']);
    const streams: TestStream[] = [];
    for (let sub = 1; sub <= 10; sub += 1) streams.push(await openStream(`${url}/api/admin/events`, { token: await mintToken({ sub: `a${sub}`, role: 'admin' }) }));
    expect(new Set(streams.map(workerOf))).toEqual(new Set(['1', '2']));
    const admin = await mintToken({ sub: 'producer', role: 'admin' });
    const producedOn = new Set<string>();
    for (let index = 0; index < 4; index += 1) {
      const created = await requestOnce('POST', `${url}/orders`, { token: admin, body: ORDER });
      expect(created.status).toBe(201);
      producedOn.add(created.worker);
    }
    expect(producedOn).toEqual(new Set(['1', '2']));
    // Ids come from the primary: 1..4 whichever worker made them, and every stream gets all four.
    for (const stream of streams) {
      await stream.waitForEvent((event) => JSON.parse(event.data).data.order_id === 4, 5000);
      expect(stream.events().map((event) => JSON.parse(event.data).data.order_id).sort()).toEqual([1, 2, 3, 4]);
    }
    const text = await metrics(url);
    expect(metricValue(text, 'sse_worker_up{worker="1"}')).toBe(1);
    expect(metricValue(text, 'sse_worker_up{worker="2"}')).toBe(1);
    expect(metricValue(text, 'sse_connections_active{role="admin",worker="1"}')).toBeGreaterThan(0);
    expect(metricValue(text, 'sse_connections_active{role="admin",worker="2"}')).toBeGreaterThan(0);
    expect(sumOverWorkers(text, 'sse_connections_active{role="admin"')).toBe(10);
    // Every worker relays every order; one counts it, so the sum is the server's.
    expect(sumOverWorkers(text, 'admin_events_emitted_total{event_type="order.created"')).toBe(4);
    expect(sumOverWorkers(text, 'sse_events_delivered_total{profile="admin-orders"')).toBe(40);

    for (const sub of ['c1', 'c2', 'c3', 'c4']) streams.push(await openStream(`${url}/api/v1/notifications/customer/stream`, { token: await mintToken({ sub, role: 'customer' }) }));
    const stats = await requestOnce('GET', `${url}/api/v1/notifications/stream/stats`, { token: await mintToken({ sub: '0', role: 'superadmin' }) });
    expect(stats.body).toMatchObject({ active_customer_connections: 4, total_connections: 4 });
    expect(stats.body.customers.sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(stats.body.workers.map((entry: { worker: number }) => entry.worker)).toEqual([1, 2]);
    expect(stats.body.workers.reduce((sum: number, entry: { total_connections: number }) => sum + entry.total_connections, 0)).toBe(4);
  });

  it('holds per-user stream limits across workers: one admin stream (the older one closed), five gateway streams (the sixth 409)', async () => {
    const { url } = await startWorkers(['--profile', 'admin-orders,gateway']);
    const token = await mintToken({ sub: 'dup', role: 'admin' });
    let older = await openStream(`${url}/api/admin/events`, { token });
    let hasCrossed = false;
    for (let attempt = 0; attempt < 6 && !hasCrossed; attempt += 1) {
      const newer = await openStream(`${url}/api/admin/events`, { token });
      expect(newer.status).toBe(200);
      hasCrossed = workerOf(newer) !== workerOf(older);
      expect(await older.ended).toBe('clean');
      expect(older.text()).toContain(': stream_limit');
      older = newer;
    }
    expect(hasCrossed).toBe(true);
    await until(async () => sumOverWorkers(await metrics(url), 'sse_connections_active{role="admin"') === 1, 5000, 'one admin stream left');

    const user = await mintToken({ sub: 'g' });
    const five: TestStream[] = [];
    for (const channel of ['deals', 'tasks', 'notifications', 'payments', 'deals']) five.push(await openStream(`${url}/api/v1/streams/${channel}`, { token: user }));
    expect(five.map((stream) => stream.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(five.map(workerOf))).toEqual(new Set(['1', '2']));
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const sixth = await requestOnce('GET', `${url}/api/v1/streams/tasks`, { token: user });
      expect(sixth.status).toBe(409);
      expect(sixth.body).toMatchObject({ code: 'stream_limit' });
    }
  });

  it('numbers gateway events the same on every worker, and Last-Event-ID resumes on either', async () => {
    const { url } = await startWorkers(['--profile', 'gateway']);
    const token = await mintToken({ sub: 'reader' });
    const first = await openStream(`${url}/api/v1/streams/deals`, { token });
    const second = await openStream(`${url}/api/v1/streams/deals`, { token });
    expect(workerOf(first)).not.toBe(workerOf(second));
    for (let index = 0; index < 3; index += 1) {
      const answer = await requestOnce('POST', `${url}/api/v1/streams/deals/events`, { token, body: { event: 'deal.created', data: { n: index } } });
      expect(answer.status).toBe(202);
    }
    for (const stream of [first, second]) {
      await stream.waitForEvent((event) => event.id === '3');
      expect(stream.events().filter((event) => event.event === 'deal.created').map((event) => [event.id, JSON.parse(event.data).data.n])).toEqual([['1', 0], ['2', 1], ['3', 2]]);
    }
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const resumed = await openStream(`${url}/api/v1/streams/deals`, { token, headers: { 'Last-Event-ID': '1' } });
      await resumed.waitForEvent((event) => event.id === '3');
      expect(resumed.events().filter((event) => event.event === 'deal.created').map((event) => event.id)).toEqual(['2', '3']);
      resumed.close();
    }
  });

  it('replaces a worker that dies; its clients reconnect, and the replacement resumes gateway streams from the primary', async () => {
    const { cli, url, pids } = await startWorkers(['--profile', 'admin-orders,gateway']);
    const token = await mintToken({ sub: 'reader' });
    for (let index = 0; index < 3; index += 1) await requestOnce('POST', `${url}/api/v1/streams/deals/events`, { token, body: { event: 'deal.created', data: { n: index } } });
    const streams: TestStream[] = [];
    for (let sub = 1; sub <= 4; sub += 1) streams.push(await openStream(`${url}/api/admin/events`, { token: await mintToken({ sub: `k${sub}`, role: 'admin' }) }));
    const onWorker1 = streams.filter((stream) => workerOf(stream) === '1');
    expect(onWorker1.length).toBeGreaterThan(0);

    process.kill(pids[0] as number, 'SIGKILL');
    for (const stream of onWorker1) expect(await stream.ended).toBe('aborted');
    // Reconnects succeed at once (on worker 2 while worker 1 is being replaced).
    for (let sub = 1; sub <= 4; sub += 1) {
      const again = await openStream(`${url}/api/admin/events`, { token: await mintToken({ sub: `r${sub}`, role: 'admin' }) });
      expect(again.status).toBe(200);
    }
    await cli.waitForLine(/"msg":"worker started".*"worker":1/, 15_000);
    await until(async () => metricValue(await metrics(url), 'sse_worker_up{worker="1"}') === 1, 10_000, 'worker 1 back in /metrics');
    // The replacement got the deals channel's history: Last-Event-ID 1 resumes with 2 and 3 there too.
    let servedByReplacement = false;
    for (let attempt = 0; attempt < 6 && !servedByReplacement; attempt += 1) {
      const resumed = await openStream(`${url}/api/v1/streams/deals`, { token, headers: { 'Last-Event-ID': '1' } });
      servedByReplacement = workerOf(resumed) === '1';
      await resumed.waitForEvent((event) => event.id === '3');
      expect(resumed.events().filter((event) => event.event === 'deal.created').map((event) => event.id)).toEqual(['2', '3']);
      resumed.close();
    }
    expect(servedByReplacement).toBe(true);
    cli.child.kill('SIGTERM');
    expect((await cli.result()).exitCode).toBe(0);
  });

  it('with --redis, fans events out through Redis to the streams of both workers', async (context) => {
    const redis = await requireBroker('redis', context);
    const { url } = await startWorkers(['--profile', 'admin-orders', '--redis', redis, '--quiet']);
    const streams: TestStream[] = [];
    for (let sub = 1; sub <= 4; sub += 1) streams.push(await openStream(`${url}/api/admin/events`, { token: await mintToken({ sub: `redis${sub}`, role: 'admin' }) }));
    expect(new Set(streams.map(workerOf))).toEqual(new Set(['1', '2']));
    const marker = `w-${process.pid}-${Date.now()}`;
    const created = await requestOnce('POST', `${url}/orders`, { token: await mintToken({ sub: 'p', role: 'admin' }), body: { ...ORDER, marker } });
    expect(created.status).toBe(201);
    for (const stream of streams) await stream.waitForEvent((event) => event.data.includes(marker));
    await until(async () => sumOverWorkers(await metrics(url), 'admin_events_emitted_total{event_type="order.created"') >= 1, 5000, 'the order counted');
  });

  it('with --amqp, consumes each RabbitMQ message once and numbers it for both workers', async (context) => {
    const amqpUrl = await requireBroker('amqp', context);
    const { url } = await startWorkers(['--profile', 'gateway', '--amqp', amqpUrl, '--quiet']);
    const token = await mintToken({ sub: 'amqp-reader' });
    const first = await openStream(`${url}/api/v1/streams/deals`, { token });
    const second = await openStream(`${url}/api/v1/streams/deals`, { token });
    expect(workerOf(first)).not.toBe(workerOf(second));
    const connection = await amqp.connect(amqpUrl);
    onTestFinished(() => connection.close().catch(() => undefined));
    const channel = await connection.createConfirmChannel();
    const marker = `w-amqp-${process.pid}-${Date.now()}`;
    for (let index = 0; index < 3; index += 1) channel.publish('crm.domain', 'deal.created', Buffer.from(JSON.stringify({ marker, n: index })));
    await channel.waitForConfirms();
    const ofMarker = (stream: TestStream): Array<[string | undefined, number]> => stream.events().filter((event) => event.data.includes(marker)).map((event) => [event.id, JSON.parse(event.data).data.n]);
    for (const stream of [first, second]) await stream.waitFor(() => ofMarker(stream).length >= 3, 5000, 'three relayed messages');
    // Exactly once each (one worker consumed it, both relayed it), with the same ids on both.
    expect(ofMarker(first)).toEqual(ofMarker(second));
    expect(ofMarker(first).map((entry) => entry[1])).toEqual([0, 1, 2]);
  });

  it('exits 2 with one message when a worker cannot start (the port is taken)', async () => {
    const first = startCli(['serve', '--port', '0', '--quiet']);
    const port = /:(\d+)$/.exec(await first.waitForLine(LISTENING))?.[1] as string;
    const cli = startCli(['serve', '--workers', '2', '--port', port, '--quiet']);
    const result = await cli.result();
    expect(result.exitCode).toBe(2);
    expect(result.stderr.match(/already in use/g)).toHaveLength(1);
  });
});
