/** CONTRACTS §1: Redis pub/sub fan-out between two real `ssekit serve` processes. */
import { describe, expect, it } from 'vitest';
import { requireBroker } from '../helpers/brokers.js';
import { startCli } from '../helpers/run-cli.js';
import { callJson, openStream, TOKENS } from '../helpers/serve-process.js';

const LISTENING = /^ssekit serve listening on (http:\/\/127\.0\.0\.1:\d+)$/;

describe('ssekit serve --redis', () => {
  it('delivers an order POSTed to process A to streams on A and B', async (context) => {
    const redis = await requireBroker('redis', context);
    const a = startCli(['serve', '--port', '0', '--redis', redis, '--quiet']);
    const b = startCli(['serve', '--port', '0', '--redis', redis, '--quiet']);
    const urlA = LISTENING.exec(await a.waitForLine(LISTENING))?.[1] as string;
    const urlB = LISTENING.exec(await b.waitForLine(LISTENING))?.[1] as string;
    expect(a.output().stdout).toContain('fan-out: redis');
    const admin = await TOKENS.admin();
    const onA = await openStream(`${urlA}/api/admin/events`, { token: admin });
    // The same admin on both: the 1-stream-per-admin limit (§1) is kept per process.
    const onB = await openStream(`${urlB}/api/admin/events`, { token: admin });
    const marker = `m-${process.pid}-${Date.now()}`;
    const created = await callJson('POST', `${urlA}/orders`, { token: admin, body: { pickup_address: 'a', delivery_address: 'b', boxes_count: 2, marker } });
    expect(created.status).toBe(201);
    for (const stream of [onA, onB]) {
      const event = await stream.waitForEvent((e) => e.data.includes(marker));
      expect(JSON.parse(event.data)).toEqual({ event: 'order.created', data: created.body });
    }
    // Salon and store travel on their own channels too.
    const customer = await openStream(`${urlB}/api/v1/notifications/customer/stream`, { token: await TOKENS.customer('777') });
    const note = await callJson('POST', `${urlA}/api/v1/notifications`, { token: await TOKENS.superadmin(), body: { title: marker, recipient_type: 'customer', recipient_id: 777 } });
    expect(JSON.parse((await customer.waitForEvent((e) => e.event === 'notification')).data)).toEqual(note.body);
    const store = await openStream(`${urlB}/admin/orders/sse`, { token: admin });
    await store.waitForEvent((e) => e.event === 'initial');
    const order = await callJson('POST', `${urlA}/admin/orders`, { token: admin, body: { table_id: 1, marker } });
    expect(JSON.parse((await store.waitForEvent((e) => e.event === 'order_created')).data)).toEqual(order.body);
  });

  it('exits 3 when Redis is unreachable', async () => {
    const cli = startCli(['serve', '--port', '0', '--redis', 'redis://127.0.0.1:1']);
    const result = await cli.result();
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toMatch(/cannot connect to Redis/);
  });
});
