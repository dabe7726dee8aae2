/**
 * Issue 11 points 1, 2 and 9 for publish: watchers fan out on real servers (one identity per
 * watcher unless a subject is fixed, and a shared one named when the server closes the
 * others), a PUBLISH that reached nobody is said, a watched stream that broke the protocol is
 * named, and a producer's error body never reaches the terminal raw.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import type { PublishResult } from '../../src/metrics/publish-result.js';
import { requireBroker } from '../helpers/brokers.js';
import { requireFastApi } from '../helpers/fastapi-server.js';
import { runCli, startCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';

const MINT = ['--jwt-secret', DEV_JWT_SECRET, '--role', 'admin'];

/** A purpose-built backend: POST /orders broadcasts to the open streams; the first stream request opens, later ones answer `later` (a status and a body). */
async function scriptedBackend(later: { status: number; contentType: string; body: string }, producerAnswer?: { status: number; body: string }): Promise<string> {
  const streams = new Set<ServerResponse>();
  let streamRequests = 0;
  const server = createServer((req, res) => {
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => void (body += c.toString()));
      req.on('end', () => {
        if (producerAnswer !== undefined) {
          res.writeHead(producerAnswer.status, { 'content-type': 'application/json' }).end(producerAnswer.body);
          return;
        }
        for (const s of streams) s.write(`data: ${body}\n\n`);
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    streamRequests += 1;
    if (streamRequests > 1) {
      res.writeHead(later.status, { 'content-type': later.contentType }).end(later.body);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': open\n\n');
    streams.add(res);
    // The first stream breaks off after a while; its reconnect gets `later`.
    setTimeout(() => {
      streams.delete(res);
      res.destroy();
    }, 600);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('publish verdicts', () => {
  it('fans out to 3 watchers on a one-stream-per-admin FastAPI backend with one identity each', async (context) => {
    const api = await requireFastApi(context);
    const run = await runCli(['publish', `${api.origin}/orders`, ...MINT, '--watch', `${api.origin}/api/admin/events`, '--listeners', '3', '--count', '4', '--rate', '10', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/3 watching streams open \(one identity per client \(sub vu-0 … vu-2\)\)/);
    expect(JSON.parse(run.stdout) as PublishResult).toMatchObject({ watchers: 3, delivered: 12, lost: 0 });
  });

  it('names a shared identity as the cause when the server closes the other watchers', async (context) => {
    const api = await requireFastApi(context);
    const run = await runCli(['publish', `${api.origin}/orders`, ...MINT, '--sub', '1', '--watch', `${api.origin}/api/admin/events`, '--listeners', '3', '--count', '4', '--rate', '10', '--timeout', '1s']);
    expect(run.exitCode).toBe(99);
    expect(run.stdout).toMatch(/FAIL: .*the server closed watchers? [\d, ]+ within 1 s of opening: one identity for all 3 watchers \(sub 1\), and the server seems to allow one stream per user/);
  });

  it("keeps the README's listen (--sub 1) and publish examples from colliding", async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const listen = startCli(['listen', `${server.url}/api/admin/events`, ...MINT, '--sub', '1', '--json', '--max-events', '20']);
    await listen.waitForLine(/connected|open/i, 10_000).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The point is completeness (no watcher closed), not speed: a generous latency target.
    const publish = await runCli(['publish', `${server.url}/orders`, ...MINT, '--watch', `${server.url}/api/admin/events`, '--count', '20', '--rate', '20', '--target', '10s']);
    expect(publish.exitCode, publish.stdout).toBe(0);
    const listened = await listen.result();
    expect(listened.exitCode, listened.stderr).toBe(0);
    expect(listened.stdout.trim().split('\n')).toHaveLength(20);
  });

  it('says so when a Redis PUBLISH reached no subscriber', async (context) => {
    const redisUrl = await requireBroker('redis', context);
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['publish', `${redisUrl}/nobody-listens-here`, ...MINT, '--watch', `${server.url}/api/admin/events`, '--count', '2', '--rate', '20', '--timeout', '500ms']);
    expect(run.exitCode).toBe(99);
    expect(run.stderr).toMatch(/ssekit: PUBLISH nobody-listens-here on .* reached 0 subscribers: no server is subscribed to this channel/);
    expect(run.stderr.match(/reached 0 subscribers/g)).toHaveLength(1);
  });

  it('names a watched stream that broke the protocol instead of only counting loss', async () => {
    const origin = await scriptedBackend({ status: 200, contentType: 'text/html', body: '<html>login</html>' });
    const run = await runCli(['publish', `${origin}/orders`, '--watch', `${origin}/events`, '--count', '10', '--rate', '5', '--timeout', '500ms']);
    expect(run.exitCode).toBe(99);
    expect(run.stdout).toMatch(/watcher 1 failed, so its events count as lost: expected Content-Type text\/event-stream, got ["']text\/html["']/);
  });

  it("escapes a producer's error body (no terminal control sequence reaches the screen)", async () => {
    // OSC 52 writes the clipboard, CSI 2J clears the screen: in a JSON string and in plain text.
    const hostile = JSON.stringify({ error: 'nope \u001b]52;c;cHduZWQ=\u0007 \u001b[2J' });
    const origin = await scriptedBackend({ status: 200, contentType: 'text/event-stream', body: '' }, { status: 400, body: hostile });
    const run = await runCli(['publish', `${origin}/orders`, '--watch', `${origin}/events`, '--count', '1', '--rate', '10', '--timeout', '300ms']);
    expect(run.exitCode).toBe(99);
    expect(run.stdout + run.stderr).not.toMatch(/\u001b|\u0007/);
    expect(run.stdout).toContain('producer answered 400 Bad Request ("nope \\u001b]52;c;cHduZWQ=\\u0007 \\u001b[2J")');
  });
});
