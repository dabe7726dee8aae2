/**
 * `runSseConnection` in process against the scripted test server: what the server saw
 * (`Last-Event-ID`, UTF-8 ids, the method and body on every reconnect), and the reconnect
 * reasons and delays from the typed status callbacks (not from stderr). Delays stay tiny with
 * `retry:` lines and options; jitter is pinned with `random`.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { SsekitError } from '../../src/core/errors.js';
import { createStreamAgent } from '../../src/transport/agent.js';
import { createFlowGate } from '../../src/transport/flow-gate.js';
import { createRestartTrigger } from '../../src/transport/restart-trigger.js';
import { runSseConnection, type SseConnectionOptions, type StreamStatus } from '../../src/transport/sse-connection.js';
import { jsonResponse, startSseServer, writeChunk, type SseServer } from '../helpers/sse-server.js';

interface Seen {
  readonly events: { type: string; data: string; id: string }[];
  readonly statuses: StreamStatus[];
  readonly reconnects: () => Extract<StreamStatus, { kind: 'reconnecting' }>[];
}

/** Runs a connection until `until(seen)` holds (then aborts) or it ends by itself. */
async function connect(server: SseServer, options: Partial<SseConnectionOptions>, until: (seen: Seen) => boolean = () => false): Promise<Seen & { end: Awaited<ReturnType<typeof runSseConnection>> }> {
  const dispatcher = createStreamAgent({ connectTimeoutMs: 5_000 });
  onTestFinished(() => dispatcher.destroy());
  const controller = new AbortController();
  const seen: Seen = {
    events: [],
    statuses: [],
    reconnects: () => seen.statuses.filter((s): s is Extract<StreamStatus, { kind: 'reconnecting' }> => s.kind === 'reconnecting'),
  };
  const check = (): void => {
    if (until(seen)) controller.abort();
  };
  const end = await runSseConnection(
    { url: new URL(server.url), dispatcher, retryInitialMs: 5, retryMaxMs: 20, random: () => 0.5, ...options },
    {
      onEvent(type, data, id) {
        seen.events.push({ type, data, id });
        check();
      },
      onStatus(status) {
        seen.statuses.push(status);
        check();
      },
    },
    controller.signal,
  );
  return { ...seen, end };
}

describe('runSseConnection: Last-Event-ID', () => {
  it('resends the last id on every reconnect, and the server saw it', async () => {
    const server = await startSseServer([{ body: 'retry: 1\nid: a\ndata: 1\n\n' }, { body: 'id: b\ndata: 2\n\n' }, { body: 'data: 3\n\n', then: 'hold' }]);
    const seen = await connect(server, {}, (s) => s.events.length === 3);
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, 'a', 'b']);
    expect(seen.events.map((e) => e.id)).toEqual(['a', 'b', 'b']);
    expect(seen.end.reason).toBe('aborted');
    expect(seen.end.lastEventId).toBe('b');
  });

  it('sends the id of an id-only block (no data) and --last-event-id on the first request', async () => {
    const server = await startSseServer([{ body: 'retry: 1\ndata: a\n\nid: 9\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const seen = await connect(server, { lastEventId: 'resume-42' }, (s) => s.events.length === 2);
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual(['resume-42', '9']);
    expect(seen.events.map((e) => e.id)).toEqual(['resume-42', '9']);
  });

  it('sends a non-Latin-1 id as its UTF-8 bytes (issue 13: €-日本-é killed every reconnect)', async () => {
    const id = '€-日本-é';
    const server = await startSseServer([{ body: `retry: 1\nid: ${id}\ndata: a\n\n` }, { body: 'data: b\n\n', then: 'hold' }]);
    const seen = await connect(server, { lastEventId: 'ünï' }, (s) => s.events.length === 2);
    // Node's server reads header bytes as Latin-1: the bytes are the id's UTF-8.
    const sent = server.requests.map((r) => Buffer.from(String(r.headers['last-event-id']), 'latin1').toString('utf8'));
    expect(sent).toEqual(['ünï', id]);
    expect(seen.events.map((e) => e.data)).toEqual(['a', 'b']);
  });
});

describe('runSseConnection: reconnect reasons and delays', () => {
  it("waits the server's retry: exactly, then backs off from it on failures, never sooner", async () => {
    const unavailable = { status: 503, headers: { 'content-type': 'text/plain' }, body: 'busy' } as const;
    const server = await startSseServer([{ body: 'retry: 120\ndata: a\n\n' }, unavailable, unavailable, { body: 'data: b\n\n', then: 'hold' }]);
    const seen = await connect(server, { random: () => 0, retryMaxMs: 30_000 }, (s) => s.events.length === 2);
    expect(seen.reconnects().map((r) => [r.reason, r.source, r.delayMs])).toEqual([
      ['ended', 'retry', 120],
      ['status', 'backoff', 120],
      ['status', 'backoff', 240],
    ]);
    expect(seen.reconnects()[1]?.detail).toBe('503 Service Unavailable');
  });

  it('uses X-Reconnect-Delay when there is no retry:, and prefers retry: over it', async () => {
    const header = await startSseServer([{ headers: { 'x-reconnect-delay': '150' }, body: 'data: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    expect((await connect(header, {}, (s) => s.events.length === 2)).reconnects()[0]).toMatchObject({ reason: 'ended', source: 'header', delayMs: 150 });
    const both = await startSseServer([{ headers: { 'x-reconnect-delay': '600000' }, body: 'retry: 110\ndata: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    expect((await connect(both, {}, (s) => s.events.length === 2)).reconnects()[0]).toMatchObject({ source: 'retry', delayMs: 110 });
  });

  it('clamps retry: 0 up to 100 ms and a hostile retry down to 10 minutes', async () => {
    const zero = await startSseServer([{ body: 'retry: 0\ndata: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    expect((await connect(zero, {}, (s) => s.events.length === 2)).reconnects()[0]?.delayMs).toBe(100);
    const huge = await startSseServer({ body: 'retry: 99999999999\ndata: a\n\n' });
    expect((await connect(huge, {}, (s) => s.reconnects().length === 1)).reconnects()[0]?.delayMs).toBe(600_000);
  });

  it('names each reason: server closed, network reset, status, stall', async () => {
    const server = await startSseServer([
      { body: 'retry: 1\ndata: a\n\n' },
      { body: ['data: cut', { destroy: true }] },
      { status: 502, headers: { 'content-type': 'text/plain' } },
      { body: [], then: 'hold' },
      { body: 'data: b\n\n', then: 'hold' },
    ]);
    const seen = await connect(server, { heartbeatTimeoutMs: 200 }, (s) => s.events.length === 2);
    expect(seen.reconnects().map((r) => r.reason)).toEqual(['ended', 'network', 'status', 'stalled']);
    expect(seen.statuses.some((s) => s.kind === 'stalled')).toBe(true);
    expect(seen.events.map((e) => e.data)).toEqual(['a', 'b']);
  });

  it('backs off exponentially up to retryMaxMs, starting over after a successful open; only consecutive failures count', async () => {
    const unavailable = { status: 503, headers: { 'content-type': 'text/plain' }, body: 'busy' } as const;
    const server = await startSseServer([unavailable, unavailable, unavailable, unavailable, { body: 'data: a\n\n' }, unavailable, { body: 'data: b\n\n', then: 'hold' }]);
    const seen = await connect(server, { retryInitialMs: 20, retryMaxMs: 100, maxRetries: 4, random: () => 1 }, (s) => s.events.length === 2);
    expect(seen.reconnects().map((r) => [r.reason, r.delayMs, r.attempt])).toEqual([
      ['status', 20, 2],
      ['status', 40, 3],
      ['status', 80, 4],
      ['status', 100, 5],
      ['ended', 20, 1],
      ['status', 40, 2],
    ]);
    expect(seen.end.reason).toBe('aborted');
  });

  it('counts consecutive failures against maxRetries and gives up with exit 3', async () => {
    const server = await startSseServer({ status: 503, headers: { 'content-type': 'text/plain' } });
    const seen = await connect(server, { maxRetries: 2 });
    expect(server.requests).toHaveLength(3);
    expect(seen.end.reason).toBe('failed');
    expect(seen.end.error?.exitCode).toBe(3);
    expect(seen.reconnects().map((r) => r.attempt)).toEqual([2, 3]);
  });

  it('ends for good on 204, on a refusal and on event: error with a code', async () => {
    const noContent = await startSseServer([{ body: 'retry: 1\ndata: a\n\n' }, { status: 204 }]);
    expect((await connect(noContent, {})).end.reason).toBe('no-content');
    const refused = await startSseServer(jsonResponse(409, { code: 'stream_limit' }));
    const end = (await connect(refused, {})).end;
    expect([end.reason, end.error?.exitCode, (end.error as SsekitError & { serverCode?: string }).serverCode]).toEqual(['failed', 4, 'stream_limit']);
    const errorEvent = await startSseServer({ body: 'event: error\ndata: {"code":"forbidden"}\n\n', then: 'hold' });
    expect((await connect(errorEvent, {})).end.error?.code).toBe('SSEKIT_SERVER_ERROR_EVENT');
  });
});

describe('runSseConnection: request method and body', () => {
  it('sends the body again on every reconnect, with its content type', async () => {
    const server = await startSseServer([{ body: 'retry: 1\ndata: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    await connect(server, { method: 'POST', body: '{"prompt":"hi"}', contentType: 'application/json' }, (s) => s.events.length === 2);
    expect(server.requests.map((r) => [r.method, r.body, r.headers['content-type']])).toEqual([
      ['POST', '{"prompt":"hi"}', 'application/json'],
      ['POST', '{"prompt":"hi"}', 'application/json'],
    ]);
  });

  it('keeps method and body on a 307, and turns a POST into a body-less GET on a 302 (Fetch)', async () => {
    const keep = await startSseServer([{ status: 307, headers: { location: '/next', 'content-type': 'text/plain' } }, { body: 'data: a\n\n', then: 'hold' }]);
    await connect(keep, { method: 'REPORT', body: 'q', contentType: 'text/plain' }, (s) => s.events.length === 1);
    expect(keep.requests.map((r) => [r.method, r.body, r.headers['content-type']])).toEqual([
      ['REPORT', 'q', 'text/plain'],
      ['REPORT', 'q', 'text/plain'],
    ]);
    const toGet = await startSseServer([{ status: 302, headers: { location: '/next', 'content-type': 'text/plain' } }, { body: 'data: a\n\n', then: 'hold' }]);
    await connect(toGet, { method: 'POST', body: 'q', contentType: 'text/plain' }, (s) => s.events.length === 1);
    expect(toGet.requests.map((r) => [r.method, r.body, r.headers['content-type']])).toEqual([
      ['POST', 'q', 'text/plain'],
      ['GET', '', undefined],
    ]);
  });
});

describe('runSseConnection: restart and backpressure', () => {
  it('a restart drops the connection and reconnects at once with the last id, even during a long backoff', async () => {
    const server = await startSseServer([{ body: 'retry: 600000\nid: 7\ndata: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const restart = createRestartTrigger();
    const seen = connect(server, { restart }, (s) => s.events.length === 2);
    await server.waitForRequests(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    restart.restart();
    const done = await seen;
    expect(done.reconnects().map((r) => [r.reason, r.delayMs])).toEqual([
      ['ended', 600_000],
      ['restart', 0],
    ]);
    expect(server.requests[1]?.headers['last-event-id']).toBe('7');
  });

  it('a closed flow gate pauses the body (the server sees backpressure) until it opens', async () => {
    let bytesWritten = 0;
    let isBlocked = false;
    const server = await startSseServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const frame = `data: ${'x'.repeat(1000)}\n\n`;
      while (bytesWritten < 50 * 1024 * 1024) {
        if (!res.write(frame)) {
          isBlocked = true;
          if (!(await writeChunk(res, ''))) return;
        }
        bytesWritten += frame.length;
      }
      res.end();
    });
    const gate = createFlowGate();
    gate.close();
    let heldAt = Infinity;
    const seen = connect(server, { flow: gate }, (s) => s.events.length > 0 && bytesWritten > heldAt + 1024 * 1024);
    await expect.poll(() => isBlocked, { timeout: 5_000 }).toBe(true);
    const blockedAt = bytesWritten;
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Paused: the kernel buffers fill and the server stops, far short of the 50 MB.
    expect(bytesWritten).toBe(blockedAt);
    expect(blockedAt).toBeLessThan(20 * 1024 * 1024);
    heldAt = blockedAt;
    gate.open();
    const done = await seen;
    expect(done.end.reason).toBe('aborted');
    expect(bytesWritten).toBeGreaterThan(heldAt);
  });
});

describe('runSseConnection: compressed streams', () => {
  it('decodes a gzip body, and the server was offered gzip, deflate, br', async () => {
    const body = gzipSync('id: 1\ndata: zipped\n\n');
    const server = await startSseServer({ headers: { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' }, body, then: 'hold' });
    const seen = await connect(server, {}, (s) => s.events.length === 1);
    expect(seen.events).toEqual([{ type: 'message', data: 'zipped', id: '1' }]);
    expect(server.requests[0]?.headers['accept-encoding']).toBe('gzip, deflate, br');
  });
});
