/**
 * Issue 13's bench side: bench asks for its streams as a browser or an LLM client would — POST
 * with a body resent on every reconnect (the gap between events measured), compressed streams
 * decoded (never "0 events, PASSED"), Last-Event-ID as UTF-8, HTTP/2 over TLS.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { startHttp2Server } from '../helpers/http2-server.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTestCertificates, startConnectProxy, startSseServer } from '../helpers/sse-server.js';

const SHORT = ['--ramp', '0s', '--duration', '2s', '--leak-grace', '0s', '--json'];

async function bench(args: readonly string[]): Promise<{ exitCode: number; result: BenchResult; stderr: string }> {
  const run = await runCli(['bench', ...args, ...SHORT], { timeoutMs: 40_000 });
  return { exitCode: run.exitCode, result: JSON.parse(run.stdout) as BenchResult, stderr: run.stderr };
}

describe('bench streams as clients ask for them', () => {
  it('POSTs each client its own body, sends it again on every reconnect, and measures the gap between events', async () => {
    const server = await startSseServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-reconnect-delay': '100' });
      // Tokens 50 ms apart, then the answer ends and the client asks again.
      for (const token of ['Hel', 'lo', '!']) {
        res.write(`data: ${token}\n\n`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      res.end();
    });
    const { exitCode, result, stderr } = await bench([server.url, '--clients', '2', '--data', '{"prompt":"hi from {{vu}}"}']);
    expect(stderr).not.toMatch(/internal error/);
    const bodies = server.requests.map((r) => `${r.method} ${r.body}`);
    expect(server.requests.every((r) => r.headers['content-type'] === 'application/json')).toBe(true);
    expect(bodies.slice(0, 2).sort()).toEqual(['POST {"prompt":"hi from 0"}', 'POST {"prompt":"hi from 1"}']);
    // Reconnects carry the same bodies.
    expect(bodies.length).toBeGreaterThan(2);
    expect(new Set(bodies)).toEqual(new Set(['POST {"prompt":"hi from 0"}', 'POST {"prompt":"hi from 1"}']));
    expect(result.interEvent?.summary.count).toBeGreaterThan(0);
    expect(result.interEvent?.summary.p50Ms).toBeGreaterThanOrEqual(30);
    // The server ends every answer within a second: kicked, and the fleet did not stay open.
    expect(exitCode).toBe(99);
  });

  it('decodes a gzip-compressed stream instead of counting no events', async () => {
    const events = Array.from({ length: 20 }, (_, i) => `data: event ${i}\n\n`).join('');
    const server = await startSseServer((req, res) => {
      expect(req.headers['accept-encoding']).toBe('gzip, deflate, br');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.write(gzipSync(events));
    });
    const { exitCode, result } = await bench([server.url, '--clients', '3', '--threshold', 'errors<1%']);
    expect(exitCode).toBe(0);
    expect(result.events.received).toBe(60);
    expect(result.errors.total).toBe(0);
  });

  it('stops a decompression bomb at the cap on decoded bytes', async () => {
    const bomb = gzipSync(Buffer.alloc(200 * 1024 * 1024, 'a'));
    const server = await startSseServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
      res.write(bomb);
    });
    const { result } = await bench([server.url, '--clients', '1', '--threshold', 'errors<1%']);
    // 200 MB of one line: the parser's cap (1 MiB of decoded bytes) ends the stream, as for listen.
    expect((result.errors.byClass['protocol'] ?? 0) + (result.errors.byClass['too-large'] ?? 0)).toBeGreaterThan(0);
    expect(result.events.received).toBe(0);
  });

  it('resends a non-Latin-1 Last-Event-ID as its UTF-8 bytes', async () => {
    const seen: (string | undefined)[] = [];
    const server = await startSseServer((req, res) => {
      const raw = req.headers['last-event-id'];
      seen.push(typeof raw === 'string' ? Buffer.from(raw, 'latin1').toString('utf8') : undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-reconnect-delay': '100' });
      res.end('id: €-日本-é\ndata: x\n\n');
    });
    await bench([server.url, '--clients', '1']);
    expect(seen[0]).toBeUndefined();
    expect(seen.slice(1).length).toBeGreaterThan(0);
    expect(seen.slice(1).every((id) => id === '€-日本-é')).toBe(true);
  });

  it('speaks HTTP/2 over TLS when the server offers it (ALPN)', async (context) => {
    const tls = await makeTestCertificates();
    if (tls === undefined) return context.skip('openssl is not available to make a test CA');
    const versions: string[] = [];
    const server = await startHttp2Server({ tls }, (req, res) => {
      versions.push(req.httpVersion);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: over h2\n\n');
    });
    const url = `${server.origin}/events`;
    const { exitCode, result, stderr } = await bench([url, '--clients', '3', '--cacert', tls.caFile]);
    expect(exitCode, stderr).toBe(0);
    expect(result.events.received).toBe(3);
    expect(versions).toEqual(['2.0', '2.0', '2.0']);
    const http1 = await bench([url, '--clients', '1', '--cacert', tls.caFile, '--http1.1']);
    expect(http1.exitCode).toBe(0);
    expect(versions.at(-1)).toBe('1.1');
  });

  it('carries every stream over the given number of HTTP/2 connections (--connections)', async (context) => {
    const tls = await makeTestCertificates();
    if (tls === undefined) return context.skip('openssl is not available to make a test CA');
    let streams = 0;
    const server = await startHttp2Server({ tls, h2Only: true }, (_req, res) => {
      streams += 1;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: shared\n\n');
    });
    const url = `${server.origin}/events`;
    const { exitCode, result, stderr } = await bench([url, '--clients', '20', '--connections', '2', '--cacert', tls.caFile]);
    expect(exitCode, stderr).toBe(0);
    expect(result.clients.peakOpen).toBe(20);
    expect(streams).toBe(20);
    expect(server.sessionCount()).toBe(2);
  });

  it('refuses --connections over HTTP/1.1, where a connection carries one stream', async () => {
    const run = await runCli(['bench', 'http://127.0.0.1:9/events', '--connections', '2']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^ssekit: --connections shares connections between streams, which needs HTTP\/2/m);
  });

  it('reaches the target through HTTP_PROXY (a CONNECT tunnel per client)', async () => {
    const target = await startSseServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: via proxy\n\n');
    });
    const proxy = await startConnectProxy({ resolve: () => ({ host: '127.0.0.1', port: target.port }) });
    // A host that does not resolve: only the proxy can reach it.
    const run = await runCli(['bench', 'http://sse.test/events', '--clients', '3', ...SHORT], { env: { HTTP_PROXY: proxy.url, NO_PROXY: '' }, timeoutMs: 40_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as BenchResult).events.received).toBe(3);
    expect(proxy.tunnels.map((t) => t.target)).toEqual(['sse.test:80', 'sse.test:80', 'sse.test:80']);
  });
});
