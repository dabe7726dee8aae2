/**
 * Issue 11 points 7–10: --ignore-event for snapshots, units on every duration, flags named in
 * errors, the default publish body, producer refusals quoted with a hint, and the plan printed
 * before the first client with the run's rates in the report.
 */
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { requireFastApi } from '../helpers/fastapi-server.js';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';

const MINT = ['--jwt-secret', DEV_JWT_SECRET, '--role', 'admin'];

describe('bench flags in clear words', () => {
  it("--ignore-event initial keeps seed 003's snapshot on every reconnect from counting as duplicates", async () => {
    const server = await startTestServer({ profiles: ['store'] });
    const args = [
      'bench', `${server.url}/admin/orders/sse`, '--jwt-secret', DEV_JWT_SECRET, '--claims', '{"role":"admin","store_id":7}',
      '--publish', `${server.url}/admin/orders`, '--body', '{"table_id":12,"items":[{"name":"{{nonce}}","qty":1}]}', '--rate', '10',
      '--clients', '6', '--ramp', '0s', '--duration', '3s', '--churn', '0.5', '--leak-grace', '0s', '--threshold', 'loss==0', '--json',
    ];
    const counted = JSON.parse((await runCli(args, { timeoutMs: 40_000 })).stdout) as BenchResult;
    expect(counted.events.duplicated).toBeGreaterThan(0);
    const ignored = await runCli([...args, '--ignore-event', 'initial'], { timeoutMs: 40_000 });
    expect(ignored.exitCode, ignored.stderr).toBe(0);
    expect((JSON.parse(ignored.stdout) as BenchResult).events.duplicated).toBe(0);
  });

  it.each([
    [['stats', 'http://127.0.0.1:9/metrics', '--watch', '2'], "--watch 2: 2 what? write 2s (or 2ms)"],
    [['listen', 'http://127.0.0.1:9/s', '--max-time', '2'], '--max-time 2: 2 what? write 2s (or 2ms)'],
    [['bench', 'http://127.0.0.1:9/s', '--duration', '5'], '--duration 5: 5 what? write 5s (or 5ms)'],
  ])('refuses a bare number as a duration: %s', async (args, message) => {
    const run = await runCli(args);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`ssekit: ${message}`);
  });

  it('names flags, not internal fields, in errors about flags', async () => {
    const run = await runCli(['bench', 'http://127.0.0.1:9/s', '--server-stats', 'http://127.0.0.1:9/metrics']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^ssekit: --server-metric is required$/m);
    const ignore = await runCli(['bench', 'http://127.0.0.1:9/s', '--ignore-event', 'initial']);
    expect(ignore.stderr).toMatch(/^ssekit: --ignore-event needs a publish load/m);
  });

  it('publishes with the seed-shaped default body when --publish has no --body, and prints the plan first', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['bench', `${server.url}/api/admin/events`, ...MINT, '--publish', `${server.url}/orders`, '--rate', '10', '--clients', '3', '--ramp', '0s', '--duration', '2s', '--leak-grace', '0s'], { timeoutMs: 40_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const plan = run.stderr.slice(0, run.stderr.indexOf('ends by'));
    expect(plan).toMatch(/^plan: /);
    for (const row of ['clients  ', 'identity  ', 'publish  ', 'server figure  ', 'thresholds  ']) expect(plan).toContain(row);
    expect(plan).toMatch(/publish\s+http:\/\/127\.0\.0\.1:\d+\/orders at 10\/s \(20 events\)/);
    expect(run.stdout).toMatch(/events\s+20 published · 60\/60 delivered/);
    expect(run.stdout).toMatch(/rates\s+[\d.]+\/s deliveries · [\d.]+\/s connects · [\d.]+ (B|KiB)\/s/);
  });

  it("quotes a producer's 422 (FastAPI's detail list) and hints at --body", async (context) => {
    const api = await requireFastApi(context);
    const run = await runCli(['bench', `${api.origin}/api/admin/events`, ...MINT, '--publish', `${api.origin}/orders`, '--body', '{"note":"{{nonce}}"}', '--rate', '5', '--clients', '2', '--ramp', '0s', '--duration', '1s', '--leak-grace', '0s'], { timeoutMs: 40_000 });
    expect(run.exitCode).toBe(99);
    expect(run.stderr).toMatch(/publish failed: producer answered 422 [A-Za-z ]*\("body\.pickup_address: field required; body\.delivery_address: field required; body\.boxes_count: field required"\)/);
    expect(run.stderr).toMatch(/check --data \(bench: --body\)/);
  });

  it("fails a run over --max-self-lag (ssekit's own lag), named in the thresholds", async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['bench', `${server.url}/api/admin/events`, ...MINT, '--clients', '3', '--ramp', '0s', '--duration', '2s', '--leak-grace', '0s', '--max-self-lag', '1us', '--json'], { timeoutMs: 40_000 });
    expect(run.exitCode).toBe(99);
    const result = JSON.parse(run.stdout) as BenchResult;
    expect(result.thresholds.find((t) => t.metric === 'lag.p99')).toMatchObject({ expression: 'lag.p99<0.001ms', passed: false });
  });

  it('shows the defaults in --help', async () => {
    const run = await runCli(['bench', '--help']);
    // Help wraps at 80 columns in a pipe: compare with the spacing folded.
    const text = run.stdout.replace(/\s+/g, ' ');
    expect(text).toContain("-c, --clients <n> concurrent clients (default: the scenario's, else 10)");
    expect(text).toMatch(/--leak-grace <duration> after closing every stream, wait this long for the server count to settle \(default 5s\)/);
  });
});
