/** `ssekit serve` as a binary: start-up output, flags, SIGTERM (issue 3 "Done when"). */
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/run-cli.js';
import { callJson, openStream } from '../helpers/serve-process.js';

const LISTENING = /^ssekit serve listening on (http:\/\/127\.0\.0\.1:\d+)$/;

describe('ssekit serve (CLI)', () => {
  it('prints a script-readable URL line, where each profile lives and dev tokens that work', async () => {
    const cli = startCli(['serve', '--port', '0']);
    const url = LISTENING.exec(await cli.waitForLine(LISTENING))?.[1] as string;
    const tokenLine = await cli.waitForLine(/^\s+admin:\s+eyJ/);
    const { stdout } = cli.output();
    for (const path of ['/api/admin/events', '/orders', '/api/v1/notifications/stream', '/api/v1/notifications/customer/stream', '/api/v1/notifications/stream/stats', '/admin/orders/sse', '/metrics']) {
      expect(stdout).toContain(`${url}${path}`);
    }
    expect(stdout).toMatch(/DEV secret/);
    const token = /admin:\s+(\S+)/.exec(tokenLine)?.[1] as string;
    const stream = await openStream(`${url}/api/admin/events`, { token });
    expect(stream.status).toBe(200);
    await cli.waitForLine(/"msg":"sse connect"/);
    const log = cli.output().stderr.split('\n').find((line) => line.includes('"sse connect"')) as string;
    expect(JSON.parse(log)).toMatchObject({ level: 'info', profile: 'admin-orders', path: '/api/admin/events', user: '1', role: 'admin', ip: '127.0.0.1' });
    expect(cli.output().stderr).not.toContain(token);
  });

  it('on SIGTERM stops accepting, ends streams cleanly and exits 0', async () => {
    const cli = startCli(['serve', '--port', '0', '--profile', 'store']);
    const url = LISTENING.exec(await cli.waitForLine(LISTENING))?.[1] as string;
    const token = /admin:\s+(\S+)/.exec(await cli.waitForLine(/^\s+admin:\s+eyJ/))?.[1] as string;
    const stream = await openStream(`${url}/admin/orders/sse`, { token });
    await stream.waitForEvent((e) => e.event === 'initial');
    cli.child.kill('SIGTERM');
    expect(await stream.ended).toBe('clean');
    const result = await cli.result();
    expect(result.exitCode).toBe(0);
    await expect(callJson('GET', `${url}/metrics`)).rejects.toThrow();
  });

  it('mounts only the profiles asked for, and keeps logs quiet with --quiet', async () => {
    const cli = startCli(['serve', '--port', '0', '--profile', 'salon', '--quiet']);
    const url = LISTENING.exec(await cli.waitForLine(LISTENING))?.[1] as string;
    expect((await callJson('GET', `${url}/api/admin/events`)).status).toBe(404);
    expect((await callJson('GET', `${url}/api/v1/notifications/stream`)).status).toBe(401);
    expect(cli.output().stderr).toBe('');
  });

  it.each([
    [['--port', 'abc'], /--port/],
    [['--heartbeat', 'soon'], /--heartbeat/],
    [['--profile', 'nope'], /unknown profile 'nope'/],
    [['--fault', 'explode'], /unknown --fault/],
    [['--fault', 'drop=2'], /--fault drop/],
    [['--max-buffer', '0'], /--max-buffer/],
    [['--redis', 'http://x'], /--redis/],
    [['--stream-limit-policy', 'maybe'], /stream-limit-policy/],
    [['--workers', '0'], /--workers: '0' is not an integer in 1\.\.64/],
    [['--workers', 'two'], /--workers/],
    [['--header-timeout', '0s'], /--header-timeout must be longer than 0/],
    [['--body-timeout', 'soon'], /--body-timeout/],
    [['--max-connections', '0'], /--max-connections/],
  ])('exits 2 for bad flags %j', async (args, message) => {
    const result = await runCli(['serve', '--port', '0', ...args]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('reports every bad flag at once', async () => {
    const result = await runCli(['serve', '--port', '-1', '--heartbeat', 'x', '--fault', 'nope']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--port.*--heartbeat.*--fault/);
  });

  it('documents every fault and gives examples in --help', async () => {
    const result = await runCli(['serve', '--help']);
    expect(result.exitCode).toBe(0);
    for (const flag of ['--workers', '--max-connections', '--header-timeout', '--body-timeout', '--allow-no-exp']) expect(result.stdout).toContain(flag);
    for (const fault of ['leak', 'delay=', 'drop=', 'stall-after=', 'close-every=']) expect(result.stdout).toContain(fault);
    expect(result.stdout).toContain('Examples:');
  });

  it('exits 2 when the port is taken', async () => {
    const first = startCli(['serve', '--port', '0', '--quiet']);
    const port = /:(\d+)$/.exec(await first.waitForLine(LISTENING))?.[1] as string;
    const result = await runCli(['serve', '--port', port]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/already in use/);
  });
});
