/**
 * Issue 11 points 3, 5 and 10: phases are bounded whatever the server does, one Ctrl-C stops a
 * large run quickly and still writes -o, --junit (with an <error>) and --summary-md (appended),
 * and a check cut short is "unknown", never a guess: a leak check interrupted during settle
 * shows no number, and deliveries still within their timeout are unsettled, not lost.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir as makeTempDir } from '../helpers/temp-dir.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { parseFaults } from '../../src/serve/faults.js';
import { childrenOf, isAlive, survivorsAfter } from '../helpers/processes.js';
import { runCli, startCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';
import { startSseServer } from '../helpers/sse-server.js';

const MINT = ['--jwt-secret', DEV_JWT_SECRET, '--role', 'admin'];

const tempDir = (): Promise<string> => makeTempDir('bounded');

describe('bench phases and interrupts', () => {
  it('ends by its bound against a server that ends every stream at once', async () => {
    // Headers and a comment, then the end: every client is kicked the moment it opens.
    const server = await startSseServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-reconnect-delay': '100' });
      res.end(': bye\n\n');
    });
    const started = Date.now();
    const cli = startCli(['bench', server.url, '--clients', '300', '--ramp', '1s', '--duration', '2s', '--leak-grace', '0s', '--json']);
    const run = await cli.result();
    const elapsedMs = Date.now() - started;
    expect(run.exitCode).toBe(99);
    const result = JSON.parse(run.stdout) as BenchResult;
    expect(result.reconnects.byReason['kicked']).toBeGreaterThan(300);
    // ramp + duration + a few seconds of start-up and stop, not a minute of reconnect storm.
    expect(elapsedMs).toBeLessThan(15_000);
  });

  it('stops a 2,000-client run on one Ctrl-C within seconds and writes every file, the JUnit with an <error>', async () => {
    const server = await startSseServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end();
    });
    const dir = await tempDir();
    const summary = join(dir, 'summary.md');
    await writeFile(summary, '### an earlier step\n');
    const files = ['-o', join(dir, 'r.json'), '--junit', join(dir, 'junit.xml'), '--summary-md', summary];
    const cli = startCli(['bench', server.url, '--clients', '2000', '--ramp', '2s', '--duration', '60s', ...files]);
    await cli.waitForLine(/^ {2}ends by/, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const interruptedAt = Date.now();
    cli.child.kill('SIGINT');
    const run = await cli.result();
    expect(run.exitCode, run.stderr).toBe(130);
    expect(Date.now() - interruptedAt).toBeLessThan(6_000);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as BenchResult;
    expect(result.endReason).toBe('interrupted');
    const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testcase [^>]*name="run">\s*<error message="interrupted: partial results">/);
    expect(junit).toContain('errors="1"');
    const markdown = await readFile(summary, 'utf8');
    expect(markdown.startsWith('### an earlier step\n')).toBe(true);
    expect(markdown).toContain('⚠️ interrupted');
  });

  it('says "interrupted during settle" with no leaked number when Ctrl-C cuts the leak check short', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], faults: parseFaults(['leak']) });
    const cli = startCli([
      'bench', `${server.url}/api/admin/events`, ...MINT, '--clients', '5', '--ramp', '0s', '--duration', '1s',
      '--server-stats', `${server.url}/metrics`, '--server-metric', 'sse_connections_active{role="admin"}', '--leak-grace', '30s', '--json',
    ]);
    await cli.waitForLine(/^settling /, 20_000);
    cli.child.kill('SIGINT');
    const run = await cli.result();
    expect(run.exitCode, run.stderr).toBe(130);
    const result = JSON.parse(run.stdout) as BenchResult;
    expect(result.leak).toMatchObject({ verdict: 'unknown', leaked: null, reason: 'interrupted during settle: the server had not counted the streams down yet' });
    expect(result.thresholds.find((t) => t.metric === 'leaks')).toMatchObject({ value: null, passed: false, reason: 'interrupted during settle: the server had not counted the streams down yet' });
  });

  it('counts deliveries still within their timeout at Ctrl-C as unsettled, not lost', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'], maxStreamsPerUser: 0, faults: parseFaults(['delay=3s']) });
    const cli = startCli([
      'bench', `${server.url}/api/admin/events`, ...MINT, '--clients', '4', '--ramp', '0s', '--duration', '60s', '--leak-grace', '0s',
      '--publish', `${server.url}/orders`, '--rate', '10', '--json',
    ]);
    await cli.waitForLine(/^ {2}ends by/, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    cli.child.kill('SIGINT');
    const run = await cli.result();
    expect(run.exitCode, run.stderr).toBe(130);
    const result = JSON.parse(run.stdout) as BenchResult;
    expect(result.events.published).toBeGreaterThan(5);
    expect(result.events.lost).toBe(0);
    expect(result.events.unsettled).toBeGreaterThan(0);
    expect(result.thresholds.find((t) => t.metric === 'loss')).toMatchObject({ value: 0, passed: true });
  });

  it('leaves no embedded server behind when bench is killed (SIGKILL: no handler runs)', async () => {
    const cli = startCli(['bench', '--clients', '2', '--ramp', '0s', '--duration', '60s']);
    await cli.waitForLine(/^embedded ssekit serve on /, 20_000);
    const servers = childrenOf(cli.child.pid as number);
    onTestFinished(() => servers.filter(isAlive).forEach((pid) => process.kill(pid, 'SIGKILL')));
    expect(servers).toHaveLength(1);
    cli.child.kill('SIGKILL');
    await cli.result();
    expect(await survivorsAfter(servers, 15_000)).toEqual([]);
  });

  it("keeps serve's settings from the environment away from the embedded server (they are the user's real backend's)", async () => {
    // With SSEKIT_REDIS_URL passed on, the embedded serve would publish bench's orders on that
    // Redis (here: a closed port, so it would not even start).
    const run = await runCli(['bench', '--clients', '2', '--ramp', '0s', '--duration', '1s', '--leak-grace', '1s'], { env: { SSEKIT_REDIS_URL: 'redis://127.0.0.1:1', SSEKIT_AMQP_URL: 'amqp://127.0.0.1:1', SSEKIT_SERVE_PORT: '1' }, timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/embedded ssekit serve on http:\/\/127\.0\.0\.1:\d+/);
  });
});
