/**
 * CONTRACTS §5 through the built binary: `ssekit serve --profile gateway --amqp <url>`. Two
 * processes each consume the exchanges with their own queue, so an AMQP publish reaches the
 * streams of both (fan-out across processes); an unreachable broker gives warnings, not a crash.
 */
import amqp from 'amqplib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { requireBroker } from '../helpers/brokers.js';
import { runCli, startCli } from '../helpers/run-cli.js';
import { callJson, mintToken, openStream } from '../helpers/serve-process.js';

const LISTENING = /^ssekit serve listening on (http:\/\/127\.0\.0\.1:\d+)$/;

describe('ssekit serve --profile gateway', () => {
  it('relays an amqplib publish on payments.status to streams on two serve processes', async (context) => {
    const broker = await requireBroker('amqp', context);
    const a = startCli(['serve', '--port', '0', '--profile', 'gateway', '--amqp', broker, '--quiet']);
    const b = startCli(['serve', '--port', '0', '--profile', 'gateway', '--amqp', broker, '--quiet']);
    const urlA = LISTENING.exec(await a.waitForLine(LISTENING, 15_000))?.[1] as string;
    const urlB = LISTENING.exec(await b.waitForLine(LISTENING, 15_000))?.[1] as string;
    const { stdout } = a.output();
    expect(stdout).toContain(`${urlA}/api/v1/streams/{channel}`);
    expect(stdout).toContain(`${urlA}/api/v1/streams/{channel}/events`);
    const token = await mintToken({ sub: '42', channels: ['payments'] });
    const onA = await openStream(`${urlA}/api/v1/streams/payments`, { token });
    const onB = await openStream(`${urlB}/api/v1/streams/payments?version=2`, { token });
    expect([onA.status, onB.status]).toEqual([200, 200]);

    const connection = await amqp.connect(broker);
    const channel = await connection.createConfirmChannel();
    onTestFinished(async () => {
      await connection.close().catch(() => undefined);
    });
    const marker = `gw-cli-${process.pid}-${Date.now()}`;
    const payload = { payment_id: 'p-9', deal_id: 'd-9', due_date: '2024-06-01', amount: 100.5, marker };
    channel.publish('payments.status', 'payment.overdue', Buffer.from(JSON.stringify(payload)), { contentType: 'application/json' });
    await channel.waitForConfirms();

    const first = await onA.waitForEvent((e) => e.data.includes(marker), 10_000);
    expect(first.event).toBe('payment.overdue');
    expect(JSON.parse(first.data)).toEqual({ event: 'payment.overdue', data: payload });
    const second = await onB.waitForEvent((e) => e.data.includes(marker), 10_000);
    expect(JSON.parse(second.data)).toMatchObject({ event: 'payment.overdue', data: payload, version: 2, channel: 'payments' });
    for (const stream of [onA, onB]) expect(stream.events().filter((e) => e.data.includes(marker))).toHaveLength(1);
  });

  it('fans a POSTed event out to another process through Redis (bus channel ssekit:gateway:<channel>)', async (context) => {
    const redis = await requireBroker('redis', context);
    const a = startCli(['serve', '--port', '0', '--profile', 'gateway', '--redis', redis, '--quiet']);
    const b = startCli(['serve', '--port', '0', '--profile', 'gateway', '--redis', redis, '--quiet']);
    const urlA = LISTENING.exec(await a.waitForLine(LISTENING, 15_000))?.[1] as string;
    const urlB = LISTENING.exec(await b.waitForLine(LISTENING, 15_000))?.[1] as string;
    const token = await mintToken({ sub: '42' });
    const onB = await openStream(`${urlB}/api/v1/streams/deals`, { token });
    const marker = `gw-redis-${process.pid}-${Date.now()}`;
    const data = { deal_id: 'd-1', entry_id: 'e-1', author_id: 'u-1', text: marker, created_at: '2024-05-01T10:00:00Z' };
    expect((await callJson('POST', `${urlA}/api/v1/streams/deals/events`, { token, body: { event: 'deal.journal.appended', data } })).status).toBe(202);
    const event = await onB.waitForEvent((e) => e.data.includes(marker), 10_000);
    expect(event.event).toBe('deal.journal.appended');
    expect(JSON.parse(event.data)).toEqual({ event: 'deal.journal.appended', data });
  });

  it('keeps serving with source_unavailable warnings when RabbitMQ is unreachable, logs it redacted, and exits 0 on SIGTERM', async () => {
    const cli = startCli(['serve', '--port', '0', '--profile', 'gateway', '--amqp', 'amqp://guest:s3cr3tpw@127.0.0.1:1', '--heartbeat', '200ms']);
    const url = LISTENING.exec(await cli.waitForLine(LISTENING, 15_000))?.[1] as string;
    await cli.waitForLine(/"msg":"gateway source unavailable"/);
    const token = await mintToken({ sub: '42' });
    const stream = await openStream(`${url}/api/v1/streams/tasks`, { token });
    await stream.waitFor(() => stream.events().filter((e) => e.event === 'warning').length >= 3, 10_000, 'three warnings');
    expect(JSON.parse(stream.events()[0]?.data ?? '')).toEqual({ code: 'source_unavailable', channel: 'tasks' });
    const produced = await callJson('POST', `${url}/api/v1/streams/tasks/events`, { token, body: { event: 'task.updated', data: { task_id: 't-1', changes: { status: 'in_progress' } } } });
    expect(produced.status).toBe(202);
    await stream.waitForEvent((e) => e.event === 'task.updated');
    expect(cli.output().stderr).not.toContain('s3cr3tpw');
    cli.child.kill('SIGTERM');
    expect(await stream.ended).toBe('clean');
    expect((await cli.result()).exitCode).toBe(0);
  });

  it('exits 2 for an --amqp URL that is not amqp:// or amqps://', async () => {
    const result = await runCli(['serve', '--port', '0', '--profile', 'gateway', '--amqp', 'http://127.0.0.1:5672']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--amqp/);
  });
});
