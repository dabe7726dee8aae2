/**
 * `fetchServerStats` (the layer bench's leak detector uses too) against real servers in
 * process: the reference backend with and without a token, redirects that must not carry the
 * token to another origin, a server that never answers, and a forced format.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ConnectError, HttpStatusError } from '../../src/core/errors.js';
import { fetchServerStats, selectFigure } from '../../src/server-stats/read-stats.js';
import { createStreamAgent } from '../../src/transport/agent.js';
import { openStream, startTestServer, TOKENS, until } from '../helpers/serve-process.js';
import { startSseServer, type SseHandler } from '../helpers/sse-server.js';

function agent() {
  const dispatcher = createStreamAgent({ connectTimeoutMs: 5000 });
  onTestFinished(() => dispatcher.destroy());
  return dispatcher;
}

/** A test server on 127.0.0.1:0 running `handler` (the shared one; closed at teardown). */
async function listen(handler: SseHandler): Promise<string> {
  return (await startSseServer(handler)).origin;
}

describe('fetchServerStats', () => {
  it('reads /metrics and the salon stats with a token, and refuses without one', async () => {
    const server = await startTestServer();
    const dispatcher = agent();
    await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    await until(async () => selectFigure(await fetchServerStats(new URL(`${server.url}/metrics`), { headers: {}, dispatcher }), 'sse_connections_active') === 1, 5000, 'the gauge to show the stream');
    const stats = await fetchServerStats(new URL(`${server.url}/api/v1/notifications/stream/stats`), { headers: {}, dispatcher, token: { token: await TOKENS.superadmin() } });
    expect(stats.format).toBe('json');
    expect(selectFigure(stats, 'total_connections')).toBe(0);
    const refused = fetchServerStats(new URL(`${server.url}/api/v1/notifications/stream/stats`), { headers: {}, dispatcher });
    await expect(refused).rejects.toBeInstanceOf(HttpStatusError);
    await expect(refused).rejects.toMatchObject({ status: 401, exitCode: 4 });
  });

  it('follows a redirect but never sends the token to another origin', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const other = await listen((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end('up 1\n');
    });
    const first = await listen((req, res) => {
      seen.push(req.headers);
      res.writeHead(302, { location: `${other}/metrics` });
      res.end();
    });
    const stats = await fetchServerStats(new URL(`${first}/metrics`), { headers: { 'x-extra': 'kept' }, dispatcher: agent(), token: { token: 'secret-token-value' } });
    expect(selectFigure(stats, 'up')).toBe(1);
    expect(seen[0]?.['authorization']).toBe('Bearer secret-token-value');
    expect(seen[1]?.['authorization']).toBeUndefined();
    expect(seen[1]?.['x-extra']).toBe('kept');
  });

  it('gives up with a ConnectError when the server never answers', async () => {
    const base = await listen(() => {
      // Never answers.
    });
    const error = await fetchServerStats(new URL(`${base}/metrics`), { headers: {}, dispatcher: agent(), timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).message).toMatch(/^no answer within 200 ms: GET http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });

  it('parses as the forced format whatever the content type says', async () => {
    const base = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end('Active connections: 4\n');
    });
    const stats = await fetchServerStats(new URL(base), { headers: {}, dispatcher: agent(), format: 'status-page' });
    expect(selectFigure(stats, 'Active connections')).toBe(4);
  });
});
