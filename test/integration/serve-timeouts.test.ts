/**
 * Timeouts for requests that are not streams (issue 14 point 2): headers within the header
 * timeout (408 after: a slowloris is answered and cut, not held), a producer body within the body
 * timeout (408), while a stream stays open far past both.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { callJson, openStream, startTestServer, TOKENS } from '../helpers/serve-process.js';

/** A raw client: writes `first`, then `drip` every 50 ms; resolves with all it read once the server closes. */
function slowClient(port: number, first: string, drip: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1', () => socket.write(first));
    const timer = setInterval(() => {
      if (socket.writable) socket.write(drip);
    }, 50);
    onTestFinished(() => {
      clearInterval(timer);
      socket.destroy();
    });
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => {
      clearInterval(timer);
      resolve(text);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
  });
}

describe('serve request timeouts', () => {
  it('answers a slowloris header sender 408 and closes it, while a stream outlives both timeouts', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], headerTimeoutMs: 300, bodyTimeoutMs: 300, heartbeatMs: 100 });
    const stream = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    // One header line every 50 ms, for ever: the headers never end.
    const reply = await slowClient(server.port, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(reply).toContain('"code":"request_timeout"');
    // Heartbeats keep coming on the stream opened before: it is not a request in progress.
    const seen = stream.items.length;
    await stream.waitFor(() => stream.items.length >= seen + 2, 5000, 'two more keepalives after the timeouts');
    expect(server.liveStreams()).toBe(1);
  });

  it('answers a producer whose body trickles 408 body_timeout and keeps serving', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], headerTimeoutMs: 300, bodyTimeoutMs: 300 });
    const token = await TOKENS.admin();
    const head = `POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`;
    const reply = await slowClient(server.port, head, ' ');
    expect(reply).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(reply).toContain('"code":"body_timeout"');
    const ok = await callJson('POST', `${server.url}/orders`, { token, body: { pickup_address: 'a', delivery_address: 'b', boxes_count: 1 } });
    expect(ok.status).toBe(201);
  });
});
