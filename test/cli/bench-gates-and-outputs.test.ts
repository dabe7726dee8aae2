/**
 * bench's verdicts and files: a failed threshold exits 99 with JUnit and Markdown written,
 * a bad scenario exits 2 with a one-line message, Ctrl-C exits 130 and still writes the
 * partial result, the embedded default serves itself, and shards split clients and events.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { runCli, startCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';

const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'ssekit-bench-'));
const ADMIN = ['--jwt-secret', DEV_JWT_SECRET, '--claims', '{"role":"admin","sub":"vu-{{vu}}"}'];

describe('bench gates and outputs', () => {
  it('exits 99 when a threshold fails, and writes JUnit and Markdown', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await tempDir();
    const run = await runCli([
      'bench', `${server.url}/api/admin/events`, ...ADMIN, '--clients', '5', '--duration', '1500ms',
      '--publish', `${server.url}/orders`, '--rate', '10', '--body', '{"pickup_address":"{{nonce}}","delivery_address":"B","boxes_count":1}',
      '--threshold', 'p99<0.001ms', '--threshold', 'loss==0',
      '--junit', join(dir, 'junit.xml'), '--summary-md', join(dir, 'summary.md'), '-o', join(dir, 'r.json'),
    ], { timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(99);
    expect(run.stdout).toMatch(/✗ p99<0.001ms/);
    expect(run.stdout).toMatch(/✓ loss==0/);
    expect(run.stdout).toContain('FAILED');
    const junit = await readFile(join(dir, 'junit.xml'), 'utf8');
    // A case per threshold (the two given and the open>=95% and lag.p99<50ms guards) and one for the run.
    expect(junit).toContain('tests="5" failures="1" errors="0"');
    expect(junit).toMatch(/<testcase [^>]*name="p99&lt;0.001ms">\s*<failure/);
    expect(await readFile(join(dir, 'summary.md'), 'utf8')).toMatch(/\| `p99<0.001ms` \| .* \| ❌ \|/);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as BenchResult;
    expect(result.endReason).toBe('failed');
  });

  it('rejects a bad scenario with exit 2 and one line naming the field', async () => {
    const dir = await tempDir();
    const file = join(dir, 'scenario.yaml');
    await writeFile(file, 'target: http://127.0.0.1:8787\nstreams: [/api/admin/events]\nclients:\n  count: -1\n');
    const run = await runCli(['bench', file]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split('\n')[0]).toBe('ssekit: scenario.yaml: clients.count must be a positive integer');
    expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('rejects a malformed threshold before starting anything', async () => {
    const run = await runCli(['bench', 'http://127.0.0.1:9/x', '--threshold', 'p99 fast']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/--threshold 'p99 fast'/);
  });

  it('on Ctrl-C stops, writes the partial result and exits 130', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const out = join(await tempDir(), 'partial.json');
    const cli = startCli(['bench', `${server.url}/api/admin/events`, ...ADMIN, '--clients', '5', '--duration', '60s', '--leak-grace', '500ms', '-o', out]);
    await cli.waitForLine(/^steady /, 20_000).catch(() => cli.waitForLine(/^ramp-up /, 5_000));
    cli.child.kill('SIGINT');
    const run = await cli.result();
    expect(run.exitCode, run.stderr).toBe(130);
    expect(run.stdout).toContain('INTERRUPTED');
    const result = JSON.parse(await readFile(out, 'utf8')) as BenchResult;
    expect(result.endReason).toBe('interrupted');
    expect(result.clients.peakOpen).toBeGreaterThan(0);
  });

  it('with no target runs against an embedded serve and stops it', async () => {
    const run = await runCli(['bench', '--clients', '5', '--ramp', '0s', '--duration', '2s', '--rate', '5', '--threshold', 'p99<10s', '--threshold', 'loss==0', '--threshold', 'leaks==0'], { timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/embedded ssekit serve on http:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).toContain('ssekit bench · admin-orders');
    expect(run.stdout).toContain('PASSED');
  });

  it('splits clients and the publish schedule across shards', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await tempDir();
    // One explicit start for the three schedules (the default, the next whole 2 s, could fall between their starts).
    const startAt = String(Date.now() + 10_000);
    const args = (i: number): string[] => [
      'bench', `${server.url}/api/admin/events`, ...ADMIN, '--clients', '9', '--ramp', '0s', '--duration', '2s',
      '--publish', `${server.url}/orders`, '--rate', '6', '--body', '{"pickup_address":"{{nonce}}","delivery_address":"B","boxes_count":1}',
      '--shard', `${i}/3`, '--run-id', 'shardtest', '--start-at', startAt, '--leak-grace', '500ms', '--threshold', 'loss==0', '-o', join(dir, `shard-${i}.json`),
    ];
    const runs = await Promise.all([1, 2, 3].map((i) => runCli(args(i), { timeoutMs: 60_000 })));
    runs.forEach((run) => expect(run.exitCode, run.stderr).toBe(0));
    const results = await Promise.all([1, 2, 3].map(async (i) => JSON.parse(await readFile(join(dir, `shard-${i}.json`), 'utf8')) as BenchResult));
    expect(results.map((r) => r.clients.planned)).toEqual([3, 3, 3]);
    expect(results.map((r) => r.shard)).toEqual([1, 2, 3].map((index) => ({ index, count: 3 })));
    expect(new Set(results.map((r) => r.scenario.hash)).size).toBe(1);
    // 12 events in all, 4 per shard; every shard checks all 12 at its 3 clients, latency only for its own 4.
    expect(results.map((r) => r.events.published)).toEqual([4, 4, 4]);
    results.forEach((r) => {
      expect(r.events.delivered).toBe(36);
      expect(r.events.lost).toBe(0);
      expect(r.latency.summary.count).toBe(12);
    });

    // ssekit stats merge adds the shards exactly: the merged run is the sum of its parts.
    const total = join(dir, 'total.json');
    const merge = await runCli(['stats', 'merge', ...[1, 2, 3].map((i) => join(dir, `shard-${i}.json`)), '-o', total]);
    expect(merge.exitCode, merge.stderr).toBe(0);
    const merged = JSON.parse(await readFile(total, 'utf8')) as BenchResult;
    expect(merged.shard).toBeNull();
    expect(merged.clients.planned).toBe(9);
    expect(merged.events.published).toBe(12);
    expect(merged.events.delivered).toBe(results.reduce((sum, r) => sum + r.events.delivered, 0));
    expect(merged.latency.summary.count).toBe(36);
    // Equal within HdrHistogram's 3 significant digits (max reads the bucket's highest value).
    const maxOfParts = Math.max(...results.map((r) => r.latency.summary.maxMs));
    expect(Math.abs(merged.latency.summary.maxMs - maxOfParts)).toBeLessThanOrEqual(maxOfParts * 0.001 + 0.001);
    const report = await runCli(['stats', 'report', total]);
    expect(report.stdout).toMatch(/delivery latency\s+p50 .* \(36\)/);
  });
});
