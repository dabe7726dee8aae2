/** A slow client is disconnected and counted; the others still get every event (issue 3). */
import { connect, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { callJson, metricValue, openStream, startTestServer, TOKENS, until } from '../helpers/serve-process.js';

describe('serve slow clients', () => {
  it('drops a client that stops reading once its buffer is over --max-buffer, without slowing a fast one', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], maxBufferBytes: 64 * 1024, maxStreamsPerUser: 0 });
    const token = await TOKENS.admin();
    const fast = await openStream(`${server.url}/api/admin/events`, { token });
    // A reader that sends its request and then never reads a byte.
    const slow: Socket = await new Promise((resolve) => {
      const socket = connect(server.port, '127.0.0.1', () => {
        socket.write(`GET /api/admin/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`);
        socket.pause();
        resolve(socket);
      });
    });
    onTestFinished(() => void slow.destroy());
    await until(() => server.liveStreams() === 2, 5000, 'both streams open');
    const payload = 'x'.repeat(50_000);
    let posted = 0;
    await until(async () => {
      await callJson('POST', `${server.url}/orders`, { token, body: { pickup_address: payload, delivery_address: 'b', boxes_count: 1 } });
      posted += 1;
      const text = (await callJson('GET', `${server.url}/metrics`)).body as string;
      return metricValue(text, 'sse_slow_client_disconnects_total{profile="admin-orders"}') === 1 || posted > 2000;
    }, 60_000, 'the slow client to be dropped');
    expect(posted).toBeLessThanOrEqual(2000);
    expect(server.liveStreams()).toBe(1);
    await fast.waitForEvent((e) => JSON.parse(e.data).data.order_id === posted, 10_000);
    expect(fast.events()).toHaveLength(posted);
  });
});
