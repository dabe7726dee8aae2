/**
 * The issue 14 flags as the binary takes them: `--header-timeout` (408 for a slowloris),
 * `--max-connections` (503 with Retry-After past it) and `--allow-no-exp` (JWTs without `exp`
 * refused by default, accepted with it).
 */
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import { startCli } from '../helpers/run-cli.js';
import { openStream } from '../helpers/serve-process.js';

const LISTENING = /^ssekit serve listening on (http:\/\/127\.0\.0\.1:\d+)$/;

async function startServe(args: readonly string[]): Promise<{ url: string; token: string }> {
  const cli = startCli(['serve', '--port', '0', '--quiet', '--profile', 'admin-orders', ...args]);
  const url = LISTENING.exec(await cli.waitForLine(LISTENING))?.[1] as string;
  const token = /admin:\s+(\S+)/.exec(await cli.waitForLine(/^\s+admin:\s+eyJ/))?.[1] as string;
  return { url, token };
}

const noExpToken = (): Promise<string> => new SignJWT({ sub: '1', role: 'admin' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(DEV_JWT_SECRET));

describe('serve hardening flags', () => {
  it('--header-timeout 300ms answers a header sender that never finishes 408 and closes it', async () => {
    const { url } = await startServe(['--header-timeout', '300ms']);
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n'));
      const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 50);
      onTestFinished(() => {
        clearInterval(drip);
        socket.destroy();
      });
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(drip);
        resolve(text);
      });
    });
    expect(reply).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it('--max-connections 1 answers a second connection 503 with Retry-After', async () => {
    const { url, token } = await startServe(['--max-connections', '1']);
    const first = await openStream(`${url}/api/admin/events`, { token });
    expect(first.status).toBe(200);
    const second = await openStream(`${url}/api/admin/events`, { token });
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('5');
  });

  it('refuses a JWT without exp by default and accepts it with --allow-no-exp', async () => {
    const strict = await startServe([]);
    expect((await openStream(`${strict.url}/api/admin/events`, { token: await noExpToken() })).status).toBe(401);
    const lenient = await startServe(['--allow-no-exp']);
    expect((await openStream(`${lenient.url}/api/admin/events`, { token: await noExpToken() })).status).toBe(200);
  });
});
