/**
 * `--max-connections` (issue 14 point 4): beyond N connections a request gets 503 `server_full`
 * with `Retry-After`, monitoring still answers, and a freed place is taken by the next client.
 */
import { describe, expect, it } from 'vitest';
import { callJson, metricValue, mintToken, openStream, startTestServer, until } from '../helpers/serve-process.js';

describe('serve --max-connections', () => {
  it('answers 503 with Retry-After past the limit, keeps /metrics answering, and admits again once a connection closes', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], maxConnections: 3 });
    const url = `${server.url}/api/admin/events`;
    const tokens = await Promise.all([1, 2, 3, 4, 5].map((sub) => mintToken({ sub: String(sub), role: 'admin' })));
    const held = [];
    for (const token of tokens.slice(0, 3)) held.push(await openStream(url, { token }));
    expect(held.map((stream) => stream.status)).toEqual([200, 200, 200]);

    const refused = await openStream(url, { token: tokens[3] as string });
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(await refused.body())).toMatchObject({ code: 'server_full' });

    const metrics = await callJson('GET', `${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metricValue(metrics.body as string, 'sse_connections_refused_total')).toBe(1);
    expect(metricValue(metrics.body as string, 'sse_connections_active{role="admin"}')).toBe(3);

    held[0]?.close();
    await until(() => server.liveStreams() === 2, 5000, 'the freed connection to close');
    const admitted = await openStream(url, { token: tokens[4] as string });
    expect(admitted.status).toBe(200);
  });
});
