/**
 * One bench client (the fleet's hot path) in process against the scripted test server: it
 * sorts responses as transport does, reconnects with Last-Event-ID after the server's
 * X-Reconnect-Delay, and counts into the fleet counters.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BenchClient, type FleetContext } from '../../src/bench/client.js';
import { createFleetCounters } from '../../src/bench/fleet-counters.js';
import { createFleetConnector } from '../../src/transport/agent.js';
import { jsonResponse, startSseServer, type SseServerSpec } from '../helpers/sse-server.js';

function contextFor(origin: string): FleetContext & { data: string[]; opened: number; closed: number } {
  const data: string[] = [];
  const context = {
    origin,
    connector: createFleetConnector({ connectTimeoutMs: 2_000 }),
    counters: createFleetCounters(),
    maxEventBytes: 1024,
    connectTimeoutMs: 2_000,
    retryInitialMs: 10,
    retryMaxMs: 50,
    onData: (_index: number, text: string) => void data.push(text),
    onBug: (error: unknown) => {
      throw error;
    },
    onOpen: () => void (context.opened += 1),
    onClose: () => void (context.closed += 1),
    data,
    opened: 0,
    closed: 0,
  };
  return context;
}

async function clientAgainst(spec: SseServerSpec) {
  const server = await startSseServer(spec);
  const context = contextFor(server.origin);
  const client = new BenchClient(0, context, '/events', { accept: 'text/event-stream' });
  client.start();
  return { server, context, client };
}

const until = async (check: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('bench client', () => {
  it('reconnects after the server ends the stream, after its X-Reconnect-Delay, sending the last id', async () => {
    const { server, context, client } = await clientAgainst([{ headers: { 'content-type': 'text/event-stream', 'x-reconnect-delay': '120' }, body: ['id: 7\ndata: a\n\n', { pauseMs: 1_100 }] }, { body: 'data: b\n\n', then: 'hold' }]);
    await until(() => context.data.length === 2, 'two events');
    await client.stop();
    expect(context.data).toEqual(['a', 'b']);
    expect(server.requests[1]?.headers['last-event-id']).toBe('7');
    expect(context.counters.opens).toBe(2);
    expect(Object.fromEntries(context.counters.reconnects)).toEqual({ 'server-closed': 1 });
    expect(context.opened).toBe(2);
    expect(context.closed).toBe(2);
  });

  it('counts a stream the server ends within 1 s of opening as kicked, and keeps the fleet count of clients up', async () => {
    const { context, client } = await clientAgainst([{ body: 'data: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    await until(() => context.data.length === 2, 'two events');
    expect(Object.fromEntries(context.counters.reconnects)).toEqual({ kicked: 1 });
    expect(context.counters.uptime.level).toBe(1);
    await client.stop();
    expect(context.counters.uptime.level).toBe(0);
  });

  it.each([
    ['an identity stream', {}, 'data: a\n\n' as string | Uint8Array],
    ['a gzip stream (its decoder ends with it)', { 'content-encoding': 'gzip' }, new Uint8Array(gzipSync('data: a\n\n'))],
  ])('stops %s cleanly: the server sees it go, nothing counted as an error or a reconnect', async (_what, headers, body) => {
    const { server, context, client } = await clientAgainst({ headers: { 'content-type': 'text/event-stream', ...headers }, body, then: 'hold' });
    await until(() => context.data.length === 1, 'the event');
    await client.stop();
    await server.waitForIdle(2_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(context.data).toEqual(['a']);
    expect(Object.fromEntries(context.counters.errors)).toEqual({});
    expect(Object.fromEntries(context.counters.reconnects)).toEqual({});
    expect([context.opened, context.closed, context.counters.uptime.level]).toEqual([1, 1, 0]);
    expect(server.requests).toHaveLength(1);
  });

  it('stops for good on a refusal (401) and counts it, without retrying', async () => {
    const { server, context, client } = await clientAgainst(jsonResponse(401, { detail: 'Not authenticated' }));
    await until(() => context.counters.refusedClients === 1, 'the refusal');
    await client.stop();
    expect(server.requests).toHaveLength(1);
    expect(Object.fromEntries(context.counters.errors)).toEqual({ 'status-4xx': 1 });
    expect(context.counters.errorExamples.get('status-4xx')).toBe('401 Unauthorized');
  });

  it('retries a 503 and opens when the server recovers', async () => {
    const { context, client } = await clientAgainst([{ status: 503, body: 'busy' }, { body: 'data: up\n\n', then: 'hold' }]);
    await until(() => context.data.length === 1, 'the event after the retry');
    await client.stop();
    expect(Object.fromEntries(context.counters.errors)).toEqual({ 'status-5xx': 1 });
    expect(Object.fromEntries(context.counters.reconnects)).toEqual({ status: 1 });
  });

  it('calls a 200 that is not text/event-stream a protocol error and stops', async () => {
    const { context, client } = await clientAgainst({ headers: { 'content-type': 'application/json' }, body: '{}' });
    await until(() => context.counters.refusedClients === 1, 'the protocol error');
    await client.stop();
    expect(context.counters.errorExamples.get('protocol')).toMatch(/application\/json, not text\/event-stream/);
  });

  it('drops a stream whose event passes the size cap and reconnects', async () => {
    const { context, client } = await clientAgainst([{ body: `data: ${'x'.repeat(4096)}\n\n` }, { body: 'data: small\n\n', then: 'hold' }]);
    await until(() => context.data.includes('small'), 'the event after the reconnect');
    await client.stop();
    expect(Object.fromEntries(context.counters.errors)).toEqual({ 'too-large': 1 });
  });
});
