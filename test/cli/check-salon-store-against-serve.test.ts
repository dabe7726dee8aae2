/**
 * Issue 17: the salon (§3) and store (§4) contracts pass against `ssekit serve`, and faults fail
 * exactly the checks they should. Serve runs in process here (its options are the flags' values),
 * with a 500 ms heartbeat the checks are told about by `--heartbeat-interval`.
 */
import { describe, expect, it } from 'vitest';
import { contractPath, describeRun, runCheck, SHORT_CHECK } from '../fixtures/check/check-run.js';
import { startTestServer } from '../helpers/serve-process.js';

const SHORT = { heartbeatMs: 500, inactivityTimeoutMs: 0 } as const;

describe('check salon against ssekit serve', () => {
  it('passes every check: connected first (again on reconnect), ping {timestamp}, notification payloads, stats', async () => {
    const server = await startTestServer({ profiles: ['salon'], ...SHORT });
    const run = await runCheck(contractPath('salon'), server.url, SHORT_CHECK);
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(run.names('pass')).toEqual(['headers', 'auth', 'first-event', 'customer-first-event', 'customer-routing', 'heartbeat', 'events', 'latency', 'server-figures']);
    expect(run.evidence('customer-routing')).toBe('1 event checked against their schemas (notification); without a schema: connected');
    expect(run.evidence('first-event')).toMatch(/^connected first, after [\d.]+ m?s, data matches its schema; again on reconnect$/);
    expect(run.evidence('server-figures')).toBe('/api/v1/notifications/stream/stats matches its schema; active_admin_connections 0 → 2 → 0 with 2 streams held, then closed');
  });

  it('a slow ping, held events and a leaking registry fail heartbeat, latency and server-figures, and only those', async () => {
    const server = await startTestServer({ profiles: ['salon'], ...SHORT, heartbeatMs: 2000, faults: { isLeaking: true, delayMs: 600 } });
    const run = await runCheck(contractPath('salon'), server.url, SHORT_CHECK);
    expect(run.names('fail'), describeRun(run)).toEqual(['heartbeat', 'latency', 'server-figures']);
    expect(run.evidence('server-figures')).toMatch(/a leak\)$/);
  });
});

describe('check store against ssekit serve', () => {
  it('passes every check: its headers, initial first, ": ping", the four producers\' events', async () => {
    const server = await startTestServer({ profiles: ['store'], ...SHORT });
    const run = await runCheck(contractPath('store'), server.url, SHORT_CHECK);
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(run.names('pass')).toEqual(['headers', 'auth', 'first-event', 'heartbeat', 'events', 'latency', 'server-figures']);
    expect(run.evidence('events')).toBe('5 events checked against their schemas (initial, order_created, order_updated, order_deleted, session_ended)');
    expect(run.evidence('headers')).toBe('200; content-type: text/event-stream; cache-control: no-cache; connection: keep-alive; x-accel-buffering: no');
  });

  it('dropping every delivery and leaking the registry fail events, latency and server-figures, and only those', async () => {
    const server = await startTestServer({ profiles: ['store'], ...SHORT, faults: { isLeaking: true, dropFraction: 1 } });
    const run = await runCheck(contractPath('store'), server.url, [...SHORT_CHECK]);
    expect(run.names('fail'), describeRun(run)).toEqual(['events', 'latency', 'server-figures']);
    expect(run.evidence('events')).toMatch(/^POST \/admin\/orders: no order_created event within 5\.00 s$/);
    expect(run.evidence('latency')).toBe('0/5 delivered within 5.00 s');
  });
});
