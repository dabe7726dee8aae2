/**
 * Secure defaults (issue 14 point 5): a JWT must expire unless `allowNoExp`, and paths are
 * matched after normalization, so `//metrics` is its own (unknown) path.
 */
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import { callJson, openStream, startTestServer, TOKENS } from '../helpers/serve-process.js';

const noExpToken = (): Promise<string> =>
  new SignJWT({ sub: '1', role: 'admin' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().sign(new TextEncoder().encode(DEV_JWT_SECRET));

/** Sends one raw request line and returns the status line of the answer. */
function rawStatusLine(port: number, target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let text = '';
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('serve secure defaults', () => {
  it('refuses a JWT without exp (401 token_no_exp), and accepts it with allowNoExp', async () => {
    const strict = await startTestServer({ profiles: ['admin-orders'] });
    const refused = await callJson('GET', `${strict.url}/api/admin/events`, { token: await noExpToken() });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'token_no_exp' });
    const lenient = await startTestServer({ profiles: ['admin-orders'], allowNoExp: true });
    const stream = await openStream(`${lenient.url}/api/admin/events`, { token: await noExpToken() });
    expect(stream.status).toBe(200);
  });

  it('answers //metrics and other paths with empty segments 404, never the index page or the metrics', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    for (const target of ['//metrics', '//', '/metrics/', '//api/admin/events', '/api//admin/events']) {
      expect(await rawStatusLine(server.port, target), target).toBe('HTTP/1.1 404 Not Found');
    }
    const missing = await callJson('GET', `${server.url}//metrics`);
    expect(missing.body).toMatchObject({ code: 'not_found' });
  });

  it('matches dot segments and absolute-form targets after normalization, and refuses other targets 400', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    expect(await rawStatusLine(server.port, '/api/../metrics')).toBe('HTTP/1.1 200 OK');
    expect(await rawStatusLine(server.port, '/%2e/metrics')).toBe('HTTP/1.1 200 OK');
    expect(await rawStatusLine(server.port, `http://127.0.0.1:${server.port}/metrics`)).toBe('HTTP/1.1 200 OK');
    expect(await rawStatusLine(server.port, 'ftp://127.0.0.1/metrics')).toBe('HTTP/1.1 400 Bad Request');
    const token = await TOKENS.admin();
    expect((await openStream(`${server.url}/api/admin/events`, { token })).status).toBe(200);
  });
});
