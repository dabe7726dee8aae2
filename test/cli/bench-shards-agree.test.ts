/**
 * Issue 11 point 6: shards of one run agree. They start the shared schedule at the same
 * instant however far apart they start, order is judged per publisher, the run id does not
 * depend on --target (shards aimed at two workers of one backend are one run), merge checks
 * the shared start, and a merge missing a shard fails unless --allow-partial.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { requireBroker } from '../helpers/brokers.js';
import { tempDir as makeTempDir } from '../helpers/temp-dir.js';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';


const tempDir = (): Promise<string> => makeTempDir('shards');

/** Two shards of one run, the second started `lagMs` after the first, each aimed at its own target. */
async function runShards(targets: readonly [string, string], dir: string, lagMs: number): Promise<number[]> {
  const startAt = new Date(Date.now() + 6_000).toISOString();
  const args = (i: number): string[] => [
    'bench', 'scenarios/admin-orders.yaml', '--target', targets[i - 1] as string, '--clients', '8', '--ramp', '0s', '--duration', '3s', '--rate', '10',
    '--shard', `${i}/2`, '--start-at', startAt, '--leak-grace', '500ms', '--threshold', 'loss==0', '--threshold', 'outOfOrder==0', '-o', join(dir, `shard-${i}.json`),
  ];
  const second = new Promise<Awaited<ReturnType<typeof runCli>>>((resolve) => setTimeout(() => resolve(runCli(args(2), { timeoutMs: 60_000 })), lagMs));
  const runs = await Promise.all([runCli(args(1), { timeoutMs: 60_000 }), second]);
  runs.forEach((run) => expect(run.exitCode, run.stderr).toBe(0));
  return runs.map((r) => r.exitCode);
}

describe('shards of one run', () => {
  it('started 1.5 s apart report no out-of-order events and nothing lost, and merge exactly', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await tempDir();
    await runShards([server.url, server.url], dir, 1_500);
    const merged = await runCli(['stats', 'merge', join(dir, 'shard-1.json'), join(dir, 'shard-2.json'), '-o', join(dir, 'all.json')]);
    expect(merged.exitCode, merged.stderr).toBe(0);
    const result = JSON.parse(await readFile(join(dir, 'all.json'), 'utf8')) as BenchResult;
    expect(result.events.outOfOrder).toBe(0);
    expect(result.events.lost).toBe(0);
    expect(result.events.delivered).toBe(result.events.expectedDeliveries);
    expect(result.events.published).toBe(30);
    expect(result.clients.planned).toBe(8);
    const shards = await Promise.all([1, 2].map(async (i) => JSON.parse(await readFile(join(dir, `shard-${i}.json`), 'utf8')) as BenchResult));
    expect(shards[0]?.schedule?.startAt).toBe(shards[1]?.schedule?.startAt);
  });

  it('aimed at two workers of one backend (serve --redis) are one run: same run id, merged with both targets', async (context) => {
    const redisUrl = await requireBroker('redis', context);
    const [a, b] = await Promise.all([startTestServer({ profiles: ['admin-orders'], redisUrl }), startTestServer({ profiles: ['admin-orders'], redisUrl })]);
    const dir = await tempDir();
    await runShards([a.url, b.url], dir, 500);
    const shards = await Promise.all([1, 2].map(async (i) => JSON.parse(await readFile(join(dir, `shard-${i}.json`), 'utf8')) as BenchResult));
    expect(shards[0]?.runId).toBe(shards[1]?.runId);
    expect(shards.every((s) => s.events.lost === 0)).toBe(true);
    const merged = await runCli(['stats', 'merge', join(dir, 'shard-1.json'), join(dir, 'shard-2.json')]);
    expect(merged.exitCode, merged.stderr).toBe(0);
    const result = JSON.parse(merged.stdout) as BenchResult;
    expect(result.target).toBe(`${a.url}/, ${b.url}/`);
  });

  it('refuses --shard without --start-at, and a merge missing a shard fails unless --allow-partial', async () => {
    const refused = await runCli(['bench', 'scenarios/admin-orders.yaml', '--target', 'http://127.0.0.1:9', '--shard', '1/2']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/^ssekit: --shard needs --start-at/m);

    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await tempDir();
    await runShards([server.url, server.url], dir, 0);
    const partial = await runCli(['stats', 'merge', join(dir, 'shard-1.json')]);
    expect(partial.exitCode).toBe(99);
    expect(partial.stderr).toMatch(/shard 2 of 2 missing: the merged result covers only part of the run \(exit 99; --allow-partial merges it anyway\)/);
    const allowed = await runCli(['stats', 'merge', join(dir, 'shard-1.json'), '--allow-partial']);
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/^warning: shard 2 of 2 missing/m);
  });
});
