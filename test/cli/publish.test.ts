/**
 * `ssekit publish` end to end: the real CLI against the reference backend (in process) with
 * each producer, the gate's exit code, lost events, and producer errors.
 */
import { describe, expect, it } from 'vitest';
import { decodeLatencyHistogram } from '../../src/metrics/histogram.js';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import { parseFaults } from '../../src/serve/faults.js';
import { requireBroker } from '../helpers/brokers.js';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';

const AUTH = ['--jwt-secret', DEV_JWT_SECRET, '--role', 'admin', '--sub', '1'];

async function adminOrders(options: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer({ profiles: ['admin-orders'], ...options });
  return { server, orders: `${server.url}/orders`, events: `${server.url}/api/admin/events` };
}

describe('publish with the HTTP producer (seed 000: POST /orders)', () => {
  it('measures every order reaching the stream and passes the 500 ms gate', async () => {
    const { orders, events } = await adminOrders();
    const run = await runCli(['publish', orders, ...AUTH, '--watch', events, '--count', '5', '--rate', '50']);
    expect(run.stderr).not.toMatch(/at .*\.js:\d+/);
    expect(run.exitCode).toBe(0);
    expect(run.stdout.match(/delivered 1\/1 in/g)).toHaveLength(5);
    expect(run.stdout).toMatch(/sent 5 · delivered 5\/5 to 1 watcher · lost 0 · duplicated 0 · producer errors 0/);
    expect(run.stdout).toMatch(/PASS: p99 .* ≤ 500 ms target/);
  });

  it('reports JSON with the histogram and counts every listener of a fan-out', async () => {
    const { orders, events } = await adminOrders({ maxStreamsPerUser: 0 });
    const run = await runCli(['publish', orders, ...AUTH, '--watch', events, '--listeners', '3', '--count', '4', '--rate', '40', '--json']);
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ schemaVersion: 1, kind: 'publish', endReason: 'passed', sent: 4, watchers: 3, expectedDeliveries: 12, delivered: 12, lost: 0, duplicated: 0 });
    // The same histogram blocks as a bench result: a summary, and the HDR encoding.
    const latency = result['latency'] as { summary: { count: number }; hdr: string };
    expect(latency.summary.count).toBe(12);
    expect(decodeLatencyHistogram(latency.hdr).count).toBe(12);
    expect(result['events']).toHaveLength(4);
  });

  it('correlates by the id the producer returns', async () => {
    const { orders, events } = await adminOrders();
    const run = await runCli(['publish', orders, ...AUTH, '--watch', events, '--count', '3', '--data', '{"pickup_address":"A","delivery_address":"B","boxes_count":2}', '--id-from', 'order_id', '--id-path', 'data.order_id', '--json']);
    expect(run.exitCode).toBe(0);
    const result = JSON.parse(run.stdout) as { delivered: number; events: { id: string }[] };
    expect(result.delivered).toBe(3);
    expect(result.events.map((e) => e.id).every((id) => /^\d+$/.test(id))).toBe(true);
  });

  it('fails the gate with exit 99 when the server delays deliveries past the target', async () => {
    const { orders, events } = await adminOrders({ faults: parseFaults(['delay=700ms']) });
    const run = await runCli(['publish', orders, ...AUTH, '--watch', events, '--count', '2', '--rate', '20']);
    expect(run.exitCode).toBe(99);
    expect(run.stdout).toMatch(/FAIL: p99 .* is over the 500 ms target/);
  });

  it('reports every event lost when the server drops every delivery', async () => {
    const { orders, events } = await adminOrders({ faults: parseFaults(['drop=1']) });
    const run = await runCli(['publish', orders, ...AUTH, '--watch', events, '--count', '3', '--rate', '30', '--timeout', '500ms']);
    expect(run.exitCode).toBe(99);
    expect(run.stdout.match(/LOST 1 of 1/g)).toHaveLength(3);
    expect(run.stdout).toMatch(/lost 3/);
    expect(run.stdout).toMatch(/3 of 3 deliveries lost/);
  });

  it('counts events a watcher missed while the server dropped it as lost (exit 99)', async () => {
    const { orders, events } = await adminOrders({ faults: parseFaults(['close-every=400ms']) });
    const run = await runCli(['publish', orders, ...AUTH, '--watch', events, '--count', '10', '--rate', '5', '--timeout', '1s', '--json']);
    expect(run.exitCode, run.stderr).toBe(99);
    const result = JSON.parse(run.stdout) as { lost: number; delivered: number; expectedDeliveries: number };
    expect(result.expectedDeliveries).toBe(10);
    expect(result.lost).toBeGreaterThan(0);
    expect(result.delivered + result.lost).toBe(10);
  });

  it('reports producer errors per event instead of crashing', async () => {
    const { server, events } = await adminOrders();
    const run = await runCli(['publish', `${server.url}/no-such-producer`, ...AUTH, '--watch', events, '--count', '2', '--rate', '20']);
    expect(run.exitCode).toBe(99);
    expect(run.stdout.match(/producer error: producer answered 404 Not Found/g)).toHaveLength(2);
    expect(run.stdout).toMatch(/2 of 2 publishes failed/);
  });

  it('stops with exit 4 when the watching stream refuses the token', async () => {
    const { orders, events } = await adminOrders();
    const run = await runCli(['publish', orders, '--jwt-secret', DEV_JWT_SECRET, '--role', 'customer', '--sub', '5', '--watch', events]);
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toMatch(/^ssekit: server answered 403 Forbidden/m);
  });
});

describe('publish usage errors', () => {
  it('needs a --watch stream', async () => {
    const run = await runCli(['publish', 'http://127.0.0.1:9/orders']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/needs at least one --watch/);
  });

  it('refuses a body it cannot correlate', async () => {
    const run = await runCli(['publish', 'http://127.0.0.1:9/orders', '--watch', 'http://127.0.0.1:9/s', '--data', '{"a":1}']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/no \{\{nonce\}\}/);
  });

  it('rejects an unknown producer scheme', async () => {
    const run = await runCli(['publish', 'kafka://127.0.0.1:9092/t', '--watch', 'http://127.0.0.1:9/s']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/'kafka:' is not supported/);
  });
});

describe('publish with the Redis producer (seed 000: PUBLISH admin:events)', () => {
  it('delivers through serve --redis', async (context) => {
    const redisUrl = await requireBroker('redis', context);
    const { events } = await adminOrders({ redisUrl });
    const run = await runCli(['publish', `${redisUrl}/admin:events`, ...AUTH, '--watch', events, '--count', '5', '--rate', '50']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/delivered 5\/5/);
  });

  it('exits 3 when Redis cannot be reached', async () => {
    const { events } = await adminOrders();
    const run = await runCli(['publish', 'redis://127.0.0.1:1/admin:events', ...AUTH, '--watch', events, '--connect-timeout', '2s']);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/^ssekit: cannot connect to Redis/m);
  });
});

describe('publish with the AMQP producer (seed 004: the gateway relays RabbitMQ)', () => {
  it('delivers a crm.domain publish to the deals stream through serve --amqp', async (context) => {
    const amqpUrl = await requireBroker('amqp', context);
    const server = await startTestServer({ profiles: ['gateway'], amqpUrl });
    const run = await runCli([
      'publish', `${amqpUrl}/crm.domain?routingKey=deal.created`,
      '--jwt-secret', DEV_JWT_SECRET, '--sub', 'amqp-user', '--role', 'manager',
      '--watch', `${server.url}/api/v1/streams/deals`, '--count', '5', '--rate', '20', '--json',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { producer: string; delivered: number; lost: number };
    expect(result.producer).toMatch(/^publish to exchange crm\.domain \(routing key "deal\.created"\)/);
    expect(result.producer).not.toContain('guest:guest');
    expect(result).toMatchObject({ delivered: 5, lost: 0 });
  });

  it('exits 3 when RabbitMQ cannot be reached', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['publish', 'amqp://guest:guest@127.0.0.1:1/crm.domain?routingKey=deal.created', ...AUTH, '--watch', `${server.url}/api/admin/events`, '--connect-timeout', '2s']);
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toMatch(/^ssekit: cannot connect to AMQP/m);
    expect(run.stderr).not.toContain('guest:guest');
  });
});
