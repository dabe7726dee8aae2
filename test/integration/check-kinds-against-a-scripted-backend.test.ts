/**
 * The check kinds in process against a purpose-built backend (real sockets on 127.0.0.1:0) that
 * breaks the contract `test/fixtures/check/hostile.yaml` in one known way per check: the wrong
 * heartbeat comment, another first event, events without `id:`, a stream that breaks off, a
 * hostile refusal body — and keeps it where a check must pass (a logout that ends the stream
 * cleanly, then 204 on reconnect; `retry: 3000`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildCheckPlan, readContractFile } from '../../src/check/contract.js';
import { runChecks } from '../../src/check/run-checks.js';
import type { CheckRunResult } from '../../src/check/result.js';
import { withStreamAgent } from '../../src/transport/agent.js';
import { fixturePath } from '../fixtures/check/check-run.js';

/** The scripted backend: routes by path, remembers its streams and whose they are; POST /logout ends that user's. */
function hostileBackend(): (req: IncomingMessage, res: ServerResponse) => void {
  const streams = new Map<ServerResponse, string>();
  const loggedOut = new Set<string>();
  const openStream = (res: ServerResponse, user: string, headers: Record<string, string> = {}): void => {
    res.writeHead(200, { 'content-type': 'text/event-stream', ...headers });
    res.flushHeaders();
    streams.set(res, user);
    res.on('close', () => streams.delete(res));
  };
  return (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const user = req.headers.authorization ?? '';
    if (req.method === 'POST' && path === '/emit') {
      let body = '';
      req.on('data', (c: Buffer) => void (body += c.toString()));
      req.on('end', () => {
        for (const s of streams.keys()) s.write(`data: ${body}\n\n`);
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    if (req.method === 'POST' && path === '/logout') {
      // Per user, as a real backend logs out: the caller's streams end, nobody else's.
      loggedOut.add(user);
      for (const [s, owner] of streams) if (owner === user) s.end();
      res.writeHead(204).end();
      return;
    }
    if (path === '/refuse') {
      // A hostile body: an ESC sequence that would recolour (or retitle) a terminal.
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: 'nope \u001b[2J\u001b]0;pwned\u0007' }));
      return;
    }
    if (path === '/reset') {
      openStream(res, user);
      setTimeout(() => res.socket?.destroy(), 300);
      return;
    }
    if (path === '/logged-in') {
      if (loggedOut.has(user)) res.writeHead(204).end();
      else openStream(res, user);
      return;
    }
    openStream(res, user, { 'x-reconnect-delay': '3000' });
    res.write('retry: 3000\n\nevent: hello\ndata: {}\n\n');
    const timer = setInterval(() => res.write(': ping\n\n'), 300);
    res.on('close', () => clearInterval(timer));
  };
}

/** Listens on 127.0.0.1:0 (its own server: the producer's body must reach the handler unread); closed at teardown. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function runContract(file: string, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<CheckRunResult> {
  const origin = await listen(handler);
  const plan = buildCheckPlan(await readContractFile(fixturePath(file)), { target: origin, auth: { jwtSecret: 'test-secret' } }, file);
  return withStreamAgent({}, (dispatcher) => runChecks(plan, { dispatcher, signal: new AbortController().signal, version: 'test' }));
}

const runHostile = (): Promise<CheckRunResult> => runContract('hostile.yaml', hostileBackend());

/**
 * A backend whose gauge still counts one stream (an earlier client's, closed but not yet
 * unregistered) until `lingerMs` after the first reading, then counts its open streams exactly.
 */
function lingeringBackend(lingerMs: number): (req: IncomingMessage, res: ServerResponse) => void {
  let firstReadAt: number | undefined;
  let open = 0;
  return (req, res) => {
    if ((req.url ?? '').startsWith('/metrics')) {
      firstReadAt ??= performance.now();
      const lingering = performance.now() - firstReadAt < lingerMs ? 1 : 0;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`# TYPE sse_connections_active gauge\nsse_connections_active{role="admin"} ${open + lingering}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    open += 1;
    res.on('close', () => void (open -= 1));
  };
}

describe('check kinds against a scripted backend', () => {
  it('fails each broken promise with evidence, passes the kept ones', async () => {
    const result = await runHostile();
    const byName = Object.fromEntries(result.checks.map((c) => [c.name, c]));
    expect(byName['headers']).toMatchObject({ status: 'pass', evidence: '200; content-type: text/event-stream; x-reconnect-delay: 3000; retry: 3000' });
    expect(byName['auth']).toMatchObject({ status: 'fail' });
    // What the server said is quoted with its control characters escaped.
    expect(byName['auth']?.evidence).toBe('no token → 403 Forbidden ("nope \\u001b[2J\\u001b]0;pwned\\u0007"), contract: 401');
    expect(byName['heartbeat']).toMatchObject({ status: 'fail' });
    expect(byName['heartbeat']?.evidence).toMatch(/^no :keepalive in 1\.\d\d s; saw comment "ping" instead$/);
    expect(byName['first-event']).toMatchObject({ status: 'fail' });
    expect(byName['first-event']?.evidence).toMatch(/^the first event was "hello" after \d+ ms, contract: connected$/);
    expect(byName['resume']).toMatchObject({ status: 'fail', evidence: 'events carry no id: field ("message" arrived without one), so Last-Event-ID cannot resume' });
    expect(byName['reset-end']).toMatchObject({ status: 'fail' });
    expect(byName['reset-end']?.evidence).toMatch(/^the stream broke off \(a reset, no terminator\)/);
    expect(byName['logout']).toMatchObject({ status: 'pass' });
    expect(byName['logout']?.evidence).toMatch(/^a clean end \d+ ms after POST \/logout; a reconnect got 204$/);
    expect(result).toMatchObject({ endReason: 'failed', counts: { passed: 2, failed: 5, skipped: 0 } });
  });

  it("server-figures waits for the count to hold still before taking it as the baseline (an earlier stream's unregistering is not this check's)", async () => {
    const result = await runContract('lingering.yaml', lingeringBackend(100));
    const check = result.checks[0];
    expect(check?.status, check?.evidence).toBe('pass');
    expect(check?.evidence).toBe('sse_connections_active{role="admin"} 0 → 2 → 0 with 2 streams held, then closed');
  });
});
