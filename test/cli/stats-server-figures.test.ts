/**
 * `ssekit stats <url>` end to end: the real CLI against the reference backend's /metrics and
 * salon stats endpoint (streams held open in process), a small nginx-style status page, gates,
 * watch mode, duplicate streams, and the exit codes of refusals and unreadable bodies.
 */
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import { runCli, startCli } from '../helpers/run-cli.js';
import { startSseServer } from '../helpers/sse-server.js';
import { callJson, mintToken, openStream, startTestServer, TOKENS, until } from '../helpers/serve-process.js';

const SUPERADMIN = ['--jwt-secret', DEV_JWT_SECRET, '--role', 'superadmin', '--sub', '0'];

/** Serves `body` with `contentType` on 127.0.0.1:0 (the shared test server; closed at teardown). */
async function staticServer(body: string, contentType: string): Promise<string> {
  const server = await startSseServer((_req, res) => {
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
  });
  return server.origin;
}

/** The gauge's total as /metrics reports it (via the test's own reading, not ssekit's). */
async function activeStreams(base: string): Promise<number> {
  const { body } = await callJson('GET', `${base}/metrics`);
  return [...String(body).matchAll(/^sse_connections_active\{[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

describe('stats against the reference backend /metrics (seed 000)', () => {
  it('counts the streams held open, per role and in total', async () => {
    const server = await startTestServer();
    await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    await openStream(`${server.url}/api/admin/events`, { token: await mintToken({ sub: '2', role: 'admin' }) });
    await openStream(`${server.url}/api/v1/notifications/customer/stream`, { token: await TOKENS.customer() });
    await until(async () => (await activeStreams(server.url)) === 3, 5000, 'three streams registered');

    const table = await runCli(['stats', `${server.url}/metrics`]);
    expect(table.stderr).toBe('');
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/· prometheus ·/);
    expect(table.stdout).toMatch(/^sse_connections_active\{role="admin"\}\s+gauge\s+2$/m);
    expect(table.stdout).toMatch(/^sse_connections_active\{role="customer"\}\s+gauge\s+1$/m);
    expect(table.stdout).not.toMatch(/_bucket/);

    const json = await runCli(['stats', `${server.url}/metrics`, '--metric', 'sse_connections_active', '--metric', 'sse_connections_active{role="admin"}', '--json']);
    expect(json.exitCode).toBe(0);
    const data = JSON.parse(json.stdout) as { format: string; rows: { label: string; value: number }[] };
    expect(data.format).toBe('prometheus');
    expect(data.rows.map((r) => [r.label, r.value])).toEqual([
      ['sse_connections_active', 3],
      ['sse_connections_active{role="admin"}', 2],
    ]);
  });

  it('shows the duration histogram as count, sum, p50 and p99 once streams have ended', async () => {
    const server = await startTestServer();
    const stream = await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    stream.close();
    await until(async () => (await activeStreams(server.url)) === 0, 5000, 'the stream to end');
    const run = await runCli(['stats', `${server.url}/metrics`, '--metric', 'sse_connection_duration_seconds']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^sse_connection_duration_seconds\{role="admin"\}\s+histogram\s+1 obs · sum [\d.e-]+ · p50 [\d.e-]+ · p99 [\d.e-]+$/m);
  });

  it('gates with --expect: exit 0 when every expectation holds, 99 when one fails', async () => {
    const server = await startTestServer();
    const idle = await runCli(['stats', `${server.url}/metrics`, '--expect', 'sse_connections_active==0']);
    expect(idle.exitCode).toBe(0);
    expect(idle.stdout).toMatch(/^PASS {2}sse_connections_active==0 {2}\(0\)$/m);

    await openStream(`${server.url}/api/admin/events`, { token: await TOKENS.admin() });
    await until(async () => (await activeStreams(server.url)) === 1, 5000, 'one stream registered');
    const busy = await runCli(['stats', `${server.url}/metrics`, '--expect', 'sse_connections_active==0', '--expect', 'admin_events_emitted_total>=0']);
    expect(busy.exitCode).toBe(99);
    expect(busy.stdout).toMatch(/^FAIL {2}sse_connections_active==0 {2}\(1 is not == 0\)$/m);
    expect(busy.stdout).toMatch(/^PASS {2}admin_events_emitted_total>=0/m);
  });

  it('watches: --count 2 prints two samples with the change since the last one', async () => {
    const server = await startTestServer();
    const run = await runCli(['stats', `${server.url}/metrics`, '--watch', '100ms', '--count', '2', '--metric', 'sse_connections_active']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/sample 1\n/);
    expect(run.stdout).toMatch(/sample 2 \(\+[\d.]+ s\)\n/);
    expect(run.stdout).toMatch(/FIGURE\s+KIND\s+VALUE\s+CHANGE\s+RATE\/S/);
    expect(run.stdout).toMatch(/^sse_connections_active\s+gauge\s+0\s+0$/m);

    const json = await runCli(['stats', `${server.url}/metrics`, '--watch', '100ms', '--count', '2', '--json']);
    expect(json.exitCode).toBe(0);
    const lines = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as { sample: number });
    expect(lines.map((l) => l.sample)).toEqual([1, 2]);
  });

  it('stops watching on Ctrl-C with exit 130, the last table still printed', async () => {
    const server = await startTestServer();
    const cli = startCli(['stats', `${server.url}/metrics`, '--watch', '200ms']);
    await cli.waitForLine(/sample 2/);
    cli.child.kill('SIGINT');
    const result = await cli.result();
    expect(result.exitCode).toBe(130);
    expect(result.stdout).toMatch(/FIGURE\s+KIND\s+VALUE/);
    expect(result.stderr).toMatch(/interrupted after \d+ samples/);
  });
});

describe('stats against the salon stats endpoint (seed 002)', () => {
  it('reads the JSON with a superadmin token and shows users holding two streams', async () => {
    const server = await startTestServer();
    const admin = await TOKENS.admin();
    // Seed 001's bug: one admin (salon 1, user 1) with two streams, beside another admin with one.
    await openStream(`${server.url}/api/v1/notifications/stream`, { token: admin });
    await openStream(`${server.url}/api/v1/notifications/stream`, { token: admin });
    await openStream(`${server.url}/api/v1/notifications/stream`, { token: await mintToken({ sub: '2', role: 'admin', salon_id: 1 }) });
    await until(async () => (await activeStreams(server.url)) === 3, 5000, 'three salon streams');
    const url = `${server.url}/api/v1/notifications/stream/stats`;

    const run = await runCli(['stats', url, ...SUPERADMIN]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/· json ·/);
    expect(run.stdout).toMatch(/^total_connections\s+untyped\s+3$/m);
    expect(run.stdout).toMatch(/^admins\.length\s+gauge\s+3$/m);
    expect(run.stdout).toMatch(/Duplicate streams: 1 user holding more than one/);
    expect(run.stdout).toMatch(/^admins\s+\[1,1\]\s+2$/m);

    const json = await runCli(['stats', url, ...SUPERADMIN, '--json', '--expect', 'admins.length==3']);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ format: 'json', duplicates: [{ list: 'admins', entry: '[1,1]', streams: 2 }], expectations: [{ expression: 'admins.length==3', value: 3, passed: true }] });
  });

  it('says none when no user holds two streams', async () => {
    const server = await startTestServer();
    await openStream(`${server.url}/api/v1/notifications/stream`, { token: await TOKENS.admin() });
    const run = await runCli(['stats', `${server.url}/api/v1/notifications/stream/stats`, ...SUPERADMIN]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/Duplicate streams: none/);
  });

  it('exits 4 on 401 without a token and on 403 with a non-superadmin token', async () => {
    const server = await startTestServer();
    const url = `${server.url}/api/v1/notifications/stream/stats`;
    const anonymous = await runCli(['stats', url]);
    expect(anonymous.exitCode).toBe(4);
    expect(anonymous.stderr).toMatch(/^ssekit: server answered 401 Unauthorized.*: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/notifications\/stream\/stats$/m);
    expect(anonymous.stderr).toMatch(/^hint: /m);
    const admin = await runCli(['stats', url, '--jwt-secret', DEV_JWT_SECRET, '--role', 'admin', '--sub', '1']);
    expect(admin.exitCode).toBe(4);
    expect(admin.stderr).toMatch(/^ssekit: server answered 403 Forbidden/m);
    expect(admin.stderr).toMatch(/superadmin/);
  });
});

describe('stats against other servers', () => {
  it('reads an nginx stub_status page', async () => {
    const base = await staticServer('Active connections: 291 \nserver accepts handled requests\n 16630948 16630948 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n', 'text/plain');
    const run = await runCli(['stats', `${base}/nginx_status`]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/· status-page ·/);
    expect(run.stdout).toMatch(/^Active connections\s+untyped\s+291$/m);
    expect(run.stdout).toMatch(/^requests\s+counter\s+31070465$/m);
    expect(run.stdout).toMatch(/^Writing\s+untyped\s+179$/m);
    const gate = await runCli(['stats', `${base}/nginx_status`, '--metric', 'Active connections', '--expect', 'Active connections<100']);
    expect(gate.exitCode).toBe(99);
    expect(gate.stdout).toMatch(/FAIL {2}Active connections<100 {2}\(291 is not < 100\)/);
  });

  it('exits 5 with a --format hint when the body is none of the formats', async () => {
    const base = await staticServer('<html><body>It works!</body></html>', 'text/html');
    const run = await runCli(['stats', base]);
    expect(run.exitCode).toBe(5);
    expect(run.stderr).toMatch(/^ssekit: cannot tell the stats format \(Content-Type 'text\/html'/m);
    expect(run.stderr).toMatch(/^hint: .*--format/m);
  });

  it('exits 3 when nothing listens, and 2 for a bad selector or flag', async () => {
    const base = await staticServer('a 1\n', 'text/plain');
    const port = new URL(base).port;
    const closed = await runCli(['stats', `http://127.0.0.1:1/metrics`]);
    expect(closed.exitCode).toBe(3);
    expect(closed.stderr).toMatch(/^ssekit: cannot connect: connection refused/m);
    const badExpect = await runCli(['stats', `http://127.0.0.1:${port}/`, '--expect', 'a=1']);
    expect(badExpect.exitCode).toBe(2);
    expect(badExpect.stderr).toMatch(/use == for equality/);
    const badCount = await runCli(['stats', `http://127.0.0.1:${port}/`, '--count', '2']);
    expect(badCount.exitCode).toBe(2);
    expect(badCount.stderr).toMatch(/--count goes with --watch/);
  });
});
