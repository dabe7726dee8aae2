/**
 * `bench --workers N` (issue 15): N shard processes on this machine, each with its own loopback
 * source address, one shared start, progress summed, results merged exactly and judged once,
 * the leak check done by the parent after every worker closed its streams; one Ctrl-C stops all
 * of them and still writes the merged result, and workers do not outlive a killed parent.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { childrenOf, survivorsAfter } from '../helpers/processes.js';
import { tempDir as makeTempDir } from '../helpers/temp-dir.js';
import { runCli, startCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';
import { startSseServer } from '../helpers/sse-server.js';

const tempDir = (): Promise<string> => makeTempDir('workers');

describe('bench --workers', () => {
  it('runs 2 workers as shards of one run and merges them: every delivery, no loss, no leak', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await tempDir();
    const run = await runCli(['bench', 'scenarios/admin-orders.yaml', '--target', server.url, '--clients', '20', '--ramp', '500ms', '--duration', '3s', '--rate', '10', '--workers', '2', '--leak-grace', '2s', '-o', join(dir, 'r.json')], { timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/workers\s+2 processes on this machine/);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as BenchResult;
    expect(result.shard).toBeNull();
    expect(result.clients.planned).toBe(20);
    expect(result.events.published).toBe(30);
    expect(result.events.lost).toBe(0);
    expect(result.events.delivered).toBe(result.events.expectedDeliveries);
    expect(result.leak).toMatchObject({ verdict: 'ok', baseline: 0, final: 0 });
    expect(result.thresholds.every((t) => t.passed)).toBe(true);
  });

  it('gives each worker its own loopback source address', async () => {
    const addresses = new Set<string>();
    const server = await startSseServer((req, res) => {
      addresses.add(req.socket.remoteAddress ?? '');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': hi\n\n');
    });
    const run = await runCli(['bench', server.url, '--clients', '6', '--ramp', '0s', '--duration', '1s', '--workers', '3', '--leak-grace', '0s'], { timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    expect([...addresses].sort()).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4']);
  });

  it('stops every worker on one Ctrl-C and still writes the merged result (exit 130)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await tempDir();
    const cli = startCli(['bench', 'scenarios/admin-orders.yaml', '--target', server.url, '--clients', '10', '--ramp', '0s', '--duration', '60s', '--workers', '2', '-o', join(dir, 'r.json')]);
    await cli.waitForLine(/^steady /, 30_000);
    cli.child.kill('SIGINT');
    const run = await cli.result();
    expect(run.exitCode, run.stderr).toBe(130);
    const result = JSON.parse(await readFile(join(dir, 'r.json'), 'utf8')) as BenchResult;
    expect(result.endReason).toBe('interrupted');
    expect(result.clients.planned).toBe(10);
  });

  it('leaves no worker behind when the parent is killed', async () => {
    const server = await startSseServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': hi\n\n');
    });
    const cli = startCli(['bench', server.url, '--clients', '4', '--ramp', '0s', '--duration', '60s', '--workers', '2']);
    await cli.waitForLine(/^ {2}ends by/, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const workers = childrenOf(cli.child.pid as number);
    expect(workers).toHaveLength(2);
    cli.child.kill('SIGKILL');
    await cli.result();
    expect(await survivorsAfter(workers, 15_000)).toEqual([]);
  });
});
