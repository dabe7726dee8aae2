/**
 * HTTP/2 through the command dispatcher (transport/agent.ts) against Node `http2` servers: over
 * TLS with a test CA made here, h2 is negotiated by ALPN (and `http1.1` keeps 1.1); over
 * cleartext `h2-prior-knowledge` speaks h2c. The server records the version it saw; the stream
 * parses, reconnects with its Last-Event-ID (UTF-8 bytes over h2 too), and the CLI flags reach
 * the dispatcher.
 */
import { createSecureServer, createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createStreamAgent, type HttpSettings } from '../../src/transport/agent.js';
import { runSseConnection } from '../../src/transport/sse-connection.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTestCertificates, type TestCertificates } from '../helpers/sse-server.js';

interface SeenRequest {
  readonly httpVersion: string;
  readonly lastEventId: string | undefined;
}

/** An h2 server (TLS when `tls` is given, else h2c) that sends `id: <n>` events and ends after two. */
async function startHttp2Server(tls: TestCertificates | undefined): Promise<{ url: string; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const onRequest = (req: Http2ServerRequest, res: Http2ServerResponse): void => {
    const raw = req.headers['last-event-id'];
    seen.push({ httpVersion: req.httpVersion, lastEventId: typeof raw === 'string' ? Buffer.from(raw, 'latin1').toString('utf8') : undefined });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`retry: 1\nid: €-${seen.length}\ndata: hello ${seen.length}\n\n`);
    if (seen.length === 1) res.end();
  };
  const server = tls === undefined ? createServer(onRequest) : createSecureServer({ key: tls.key, cert: tls.cert, allowHTTP1: true }, onRequest);
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (session) => sessions.add(session));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}/events`, seen };
}

/** Reads two events (one reconnect) through a dispatcher built from `settings`. */
async function readTwo(url: string, settings: HttpSettings): Promise<string[]> {
  const dispatcher = createStreamAgent({ connectTimeoutMs: 5_000, ...settings });
  onTestFinished(() => dispatcher.destroy());
  const controller = new AbortController();
  const data: string[] = [];
  const end = await runSseConnection(
    { url: new URL(url), dispatcher, retryInitialMs: 5, maxRetries: 1 },
    {
      onEvent(_type, text) {
        data.push(text);
        if (data.length === 2) controller.abort();
      },
    },
    controller.signal,
  );
  expect(end.error, end.error?.message).toBeUndefined();
  return data;
}

let certs: TestCertificates | undefined;
beforeAll(async () => {
  certs = await makeTestCertificates();
});

describe('HTTP/2 over TLS (ALPN)', () => {
  it('negotiates h2 when the server offers it, and reconnects with the UTF-8 Last-Event-ID', async ({ skip }) => {
    if (certs === undefined) return skip('openssl not available to make a test CA');
    const server = await startHttp2Server(certs);
    expect(await readTwo(server.url, { extraCaPem: [certs.caPem] })).toEqual(['hello 1', 'hello 2']);
    expect(server.seen).toEqual([
      { httpVersion: '2.0', lastEventId: undefined },
      { httpVersion: '2.0', lastEventId: '€-1' },
    ]);
  });

  it('keeps HTTP/1.1 with http1.1', async ({ skip }) => {
    if (certs === undefined) return skip('openssl not available to make a test CA');
    const server = await startHttp2Server(certs);
    await readTwo(server.url, { extraCaPem: [certs.caPem], httpVersion: 'http1.1' });
    expect(server.seen.map((s) => s.httpVersion)).toEqual(['1.1', '1.1']);
  });

  it('listen --cacert speaks h2, and --http1.1 forces 1.1', async ({ skip }) => {
    if (certs === undefined) return skip('openssl not available to make a test CA');
    const server = await startHttp2Server(certs);
    const h2 = await runCli(['listen', server.url, '--json', '--max-events', '2', '--cacert', certs.caFile]);
    expect(h2.exitCode, h2.stderr).toBe(0);
    const h1 = await runCli(['listen', server.url, '--json', '--max-events', '1', '--cacert', certs.caFile, '--http1.1']);
    expect(h1.exitCode, h1.stderr).toBe(0);
    expect(server.seen.map((s) => s.httpVersion)).toEqual(['2.0', '2.0', '1.1']);
  });
});

describe('h2c (HTTP/2 prior knowledge)', () => {
  it('speaks h2 over cleartext with h2-prior-knowledge', async () => {
    const server = await startHttp2Server(undefined);
    expect(await readTwo(server.url, { httpVersion: 'h2-prior-knowledge' })).toEqual(['hello 1', 'hello 2']);
    expect(server.seen.map((s) => s.httpVersion)).toEqual(['2.0', '2.0']);
  });

  it('listen --http2-prior-knowledge reads an h2c stream; the two version flags together are a usage error', async () => {
    const server = await startHttp2Server(undefined);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', '--http2-prior-knowledge']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('hello 2');
    const both = await runCli(['listen', server.url, '--http1.1', '--http2-prior-knowledge']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toMatch(/^ssekit: give either --http1.1 or --http2-prior-knowledge/m);
  });
});
