/**
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY through the command dispatcher, against a small local
 * CONNECT proxy (test/helpers/sse-server.ts). The target is named `sse.test`, a host that does
 * not resolve: a stream that arrives went through the proxy. The CLI reads the variables from
 * its environment (listen, and stats for another command of the shared flags); loopback is
 * never proxied; a proxy that refuses the tunnel is an unreachable target (exit 3).
 */
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Client } from 'undici';
import { createFleetConnector, createStreamAgent, type HttpSettings } from '../../src/transport/agent.js';
import { runSseConnection } from '../../src/transport/sse-connection.js';
import { runCli } from '../helpers/run-cli.js';
import { makeTestCertificates, startConnectProxy, startSseServer, type SseServer, type TestCertificates } from '../helpers/sse-server.js';

const FAKE_HOST = 'sse.test';

/** A proxy that sends every tunnel to `server`, whatever host was asked for. */
const proxyTo = (server: SseServer, refuse = false) => startConnectProxy({ resolve: () => ({ host: '127.0.0.1', port: server.port }), refuse });

async function firstEvent(url: string, settings: HttpSettings): Promise<string | undefined> {
  const dispatcher = createStreamAgent({ connectTimeoutMs: 5_000, ...settings });
  onTestFinished(() => dispatcher.destroy());
  const controller = new AbortController();
  let data: string | undefined;
  const end = await runSseConnection(
    { url: new URL(url), dispatcher, maxRetries: 0 },
    {
      onEvent(_type, text) {
        data = text;
        controller.abort();
      },
    },
    controller.signal,
  );
  expect(end.error, end.error?.message).toBeUndefined();
  return data;
}

let certs: TestCertificates | undefined;
beforeAll(async () => {
  certs = await makeTestCertificates([FAKE_HOST]);
});

describe('proxies from the environment', () => {
  it('tunnels an http stream through HTTP_PROXY', async () => {
    const server = await startSseServer({ body: 'data: via proxy\n\n', then: 'hold' });
    const proxy = await proxyTo(server);
    expect(await firstEvent(`http://${FAKE_HOST}:${server.port}/events`, { proxy: { httpProxy: proxy.url } })).toBe('via proxy');
    expect(proxy.tunnels.map((t) => t.target)).toEqual([`${FAKE_HOST}:${server.port}`]);
    expect(server.requests[0]?.headers.host).toBe(`${FAKE_HOST}:${server.port}`);
  });

  it('tunnels an https stream through HTTPS_PROXY, verifying the target with --cacert', async ({ skip }) => {
    if (certs === undefined) return skip('openssl not available to make a test CA');
    const server = await startSseServer({ body: 'data: tls via proxy\n\n', then: 'hold' }, { tls: { key: certs.key, cert: certs.cert } });
    const proxy = await proxyTo(server);
    expect(await firstEvent(`https://${FAKE_HOST}:${server.port}/events`, { extraCaPem: [certs.caPem], proxy: { httpsProxy: proxy.url } })).toBe('tls via proxy');
    expect(proxy.tunnels).toHaveLength(1);
  });

  it('listen honours HTTPS_PROXY and NO_PROXY from its environment, and never proxies loopback', async ({ skip }) => {
    if (certs === undefined) return skip('openssl not available to make a test CA');
    const server = await startSseServer({ body: 'data: cli via proxy\n\n', then: 'hold' }, { tls: { key: certs.key, cert: certs.cert } });
    const proxy = await proxyTo(server);
    const url = `https://${FAKE_HOST}:${server.port}/events`;
    const args = ['listen', url, '--json', '--max-events', '1', '--cacert', certs.caFile, '--max-retries', '0'];
    const proxied = await runCli(args, { env: { HTTPS_PROXY: proxy.url, NO_PROXY: 'other.example' } });
    expect(proxied.exitCode, proxied.stderr).toBe(0);
    expect(proxied.stdout).toContain('cli via proxy');
    const excluded = await runCli(args, { env: { HTTPS_PROXY: proxy.url, NO_PROXY: FAKE_HOST } });
    // Not proxied: sse.test does not resolve, so the direct connection fails (exit 3).
    expect(excluded.exitCode, excluded.stderr).toBe(3);
    const loopback = await runCli(['listen', server.url, '--json', '--max-events', '1', '--cacert', certs.caFile], { env: { HTTPS_PROXY: proxy.url } });
    expect(loopback.exitCode, loopback.stderr).toBe(0);
    expect(proxy.tunnels).toHaveLength(1);
  });

  it('never proxies any 127.0.0.0/8 address, as the fleet does (NO_PROXY by host name alone would send 127.0.0.2 to the proxy)', async () => {
    const server = await startSseServer({ body: 'data: straight\n\n', then: 'hold' }, { host: '127.0.0.2' });
    // The proxy would tunnel to 127.0.0.1, where nothing listens on that port: only a direct
    // connection reaches the server.
    const proxy = await proxyTo(server);
    const result = await runCli(['listen', `${server.url}`, '--json', '--max-events', '1', '--max-retries', '0'], { env: { HTTP_PROXY: proxy.url, NO_PROXY: 'other.example' } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('straight');
    expect(proxy.tunnels).toHaveLength(0);
  });

  it('stats reads through HTTP_PROXY too (the shared HTTP flags)', async () => {
    const server = await startSseServer({ status: 200, headers: { 'content-type': 'text/plain; version=0.0.4' }, body: 'sse_connections_active 3\n' });
    const proxy = await proxyTo(server);
    const result = await runCli(['stats', `http://${FAKE_HOST}:${server.port}/metrics`, '--json'], { env: { HTTP_PROXY: proxy.url } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(proxy.tunnels).toHaveLength(1);
  });

  it('a proxy that refuses the tunnel is exit 3; a bad proxy URL is a usage error', async () => {
    const server = await startSseServer({ body: 'data: never\n\n' });
    const proxy = await proxyTo(server, true);
    const refused = await runCli(['listen', `http://${FAKE_HOST}:${server.port}/events`, '--json', '--max-retries', '0'], { env: { HTTP_PROXY: proxy.url } });
    expect(refused.exitCode, refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/^ssekit: cannot connect: Proxy response \(403\)/m);
    expect(refused.stderr).toMatch(/^hint: the proxy refused the tunnel/m);
    const bad = await runCli(['listen', 'http://x.example/e'], { env: { HTTPS_PROXY: 'socks5://user:pw@127.0.0.1:1' } });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^ssekit: HTTPS_PROXY: .* is not an http:\/\/ or https:\/\/ proxy URL/m);
    expect(bad.stderr).not.toContain('pw@');
  });

  it('a proxy that hangs up on CONNECT, or never answers it, is one attempt and exit 3 that names the proxy', async () => {
    const server = await startSseServer({ body: 'data: never\n\n' });
    const args = ['listen', `http://${FAKE_HOST}:${server.port}/events`, '--json', '--max-retries', '0', '--connect-timeout', '2s'];
    const closing = await startConnectProxy({ resolve: () => ({ host: '127.0.0.1', port: server.port }), unanswered: 'close' });
    const closed = await runCli(args, { env: { HTTP_PROXY: closing.url } });
    expect(closed.exitCode, closed.stderr).toBe(3);
    expect(closed.stderr).toMatch(/^ssekit: cannot connect: proxy 127\.0\.0\.1:\d+ closed the connection without answering CONNECT/m);
    expect(closed.stderr).toMatch(/^hint: the proxy did not open the tunnel/m);
    // One tunnel asked for, not a reconnect loop inside the HTTP client.
    expect(closing.tunnels).toHaveLength(1);
    const silent = await startConnectProxy({ resolve: () => ({ host: '127.0.0.1', port: server.port }), unanswered: 'never' });
    const timedOut = await runCli(args, { env: { HTTP_PROXY: silent.url } });
    expect(timedOut.exitCode, timedOut.stderr).toBe(3);
    expect(timedOut.stderr).toMatch(/^ssekit: cannot connect: proxy 127\.0\.0\.1:\d+ did not open a tunnel in 2000 ms/m);
    expect(silent.tunnels).toHaveLength(1);
    expect(server.requests).toHaveLength(0);
  });

  it("bench's fleet connector tunnels too: a per-client undici Client reaches http and https targets through the proxy", async ({ skip }) => {
    if (certs === undefined) return skip('openssl not available to make a test CA');
    const read = async (origin: string, settings: HttpSettings): Promise<string> => {
      const client = new Client(origin, { connect: createFleetConnector(settings), bodyTimeout: 0 });
      try {
        const response = await client.request({ path: '/events', method: 'GET' });
        for await (const chunk of response.body) return (chunk as Buffer).toString();
        return '';
      } finally {
        // Destroyed at once: a Client whose body was cut short may connect again by itself.
        await client.destroy();
      }
    };
    const plain = await startSseServer({ body: 'data: fleet\n\n', then: 'hold' });
    const plainProxy = await proxyTo(plain);
    expect(await read(`http://${FAKE_HOST}:${plain.port}`, { proxy: { httpProxy: plainProxy.url } })).toBe('data: fleet\n\n');
    const secure = await startSseServer({ body: 'data: fleet tls\n\n', then: 'hold' }, { tls: { key: certs.key, cert: certs.cert } });
    const secureProxy = await proxyTo(secure);
    expect(await read(`https://${FAKE_HOST}:${secure.port}`, { extraCaPem: [certs.caPem], proxy: { httpsProxy: secureProxy.url } })).toBe('data: fleet tls\n\n');
    expect([plainProxy.tunnels.length, secureProxy.tunnels.length]).toEqual([1, 1]);
    // NO_PROXY and loopback: straight to the server.
    expect(await read(plain.origin, { proxy: { httpProxy: plainProxy.url } })).toBe('data: fleet\n\n');
    expect(plainProxy.tunnels).toHaveLength(1);
  });
});
