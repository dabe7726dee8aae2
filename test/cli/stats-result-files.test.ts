/**
 * `ssekit stats report|compare|merge` end to end on result files written into a temp dir:
 * the report, the comparison and its regression gate, an exact 3-shard merge, and one-line
 * errors for wrong files and mismatched shards.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { createLatencyHistogram, decodeLatencyHistogram, summarizeLatency } from '../../src/metrics/histogram.js';
import { latencies, makeResult } from '../fixtures/stats/make-result.js';
import { tempDir as makeTempDir } from '../helpers/temp-dir.js';
import { runCli } from '../helpers/run-cli.js';

const tempDir = (): Promise<string> => makeTempDir('stats');

async function write(dir: string, name: string, value: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

describe('stats report', () => {
  it('prints the main figures, percentiles, a distribution, the leak verdict and thresholds', async () => {
    const dir = await tempDir();
    const file = await write(dir, 'result.json', makeResult({ events: { lost: 2, expectedDeliveries: 100, delivered: 98 }, thresholds: [{ expression: 'p99<500ms', metric: 'latency.p99', value: 49.5, passed: true }] }));
    const run = await runCli(['stats', 'report', file]);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    // The same report bench prints at the end of a run.
    expect(run.stdout).toMatch(/^ssekit bench · admin-orders · /m);
    expect(run.stdout).toMatch(/completeness\s+2 lost/);
    expect(run.stdout).toMatch(/delivery latency\s+p50 .* · p90 .* · p99 .* \(100\)/);
    expect(run.stdout).toMatch(/^\s+p95–p99\s+█+ [\d.]+ ms$/m);
    expect(run.stdout).toMatch(/connection leaks\n\s+none: server count/);
    expect(run.stdout).toMatch(/✓ p99<500ms/);
    expect(run.stdout).toMatch(/^PASSED$/m);
  });

  it('rejects a wrong file in one line naming it (exit 2)', async () => {
    const dir = await tempDir();
    const notJson = await write(dir, 'notes.txt', 'hello');
    const run = await runCli(['stats', 'report', notJson]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/^ssekit: .*notes\.txt: not JSON/m);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('ssekit:'))).toHaveLength(1);
    const future = await write(dir, 'future.json', { ...makeResult(), schemaVersion: 3 });
    const wrongVersion = await runCli(['stats', 'report', future]);
    expect(wrongVersion.exitCode).toBe(2);
    expect(wrongVersion.stderr).toMatch(/future\.json: schemaVersion 3 is not supported \(this ssekit reads 1 and 2\)/);
    const missing = await runCli(['stats', 'report', join(dir, 'nope.json')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: no such file/);
  });
});

describe('stats compare', () => {
  it('shows the runs side by side and gates p99 with --max-regression', async () => {
    const dir = await tempDir();
    const base = await write(dir, 'base.json', makeResult({ latencyMs: latencies(300, 10, 100, 3) }));
    const slower = await write(dir, 'new.json', makeResult({ runId: 'run-2', latencyMs: latencies(300, 10, 100, 3).map((v) => v * 1.3), events: { lost: 5 } }));
    const plain = await runCli(['stats', 'compare', base, slower]);
    expect(plain.exitCode).toBe(0);
    expect(plain.stdout).toMatch(/FIGURE\s+BASE\s+NEW\s+CHANGE\s+%/);
    expect(plain.stdout).toMatch(/^latency p99\s+[\d.]+ ms\s+[\d.]+ ms\s+\+[\d.]+ ms\s+\+(29\.\d|30\.\d) %$/m);
    expect(plain.stdout).toMatch(/^lost\s+0\s+5\s+\+5\s+new$/m);

    const gated = await runCli(['stats', 'compare', base, slower, '--max-regression', '10%']);
    expect(gated.exitCode).toBe(99);
    expect(gated.stdout).toMatch(/FAIL: p99 got worse by (29|30)(\.\d+)? %, over the 10 % allowed/);
    const loose = await runCli(['stats', 'compare', base, slower, '--max-regression', '50%', '--json']);
    expect(loose.exitCode).toBe(0);
    expect(JSON.parse(loose.stdout)).toMatchObject({ kind: 'compare', regression: { passed: true, limit: { kind: 'percent', percent: 50 } } });
  });
});

describe('stats merge', () => {
  it('merges 3 shards exactly into a valid unsharded result', async () => {
    const dir = await tempDir();
    const parts = [latencies(400, 1, 30, 7), latencies(250, 3, 80, 8), latencies(350, 2, 200, 9)];
    const files = await Promise.all(parts.map((latencyMs, i) => write(dir, `shard-${i + 1}.json`, makeResult({ shard: { index: i + 1, count: 3 }, latencyMs, events: { published: 5, lost: i } }))));
    const out = join(dir, 'total.json');
    const run = await runCli(['stats', 'merge', ...files, '-o', out]);
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toMatch(/merged 3 shards of admin-orders \(run run-1\) → .*total\.json: 1000 latency samples/);
    const merged = JSON.parse(await readFile(out, 'utf8')) as BenchResult;
    expect(merged).toMatchObject({ schemaVersion: 2, kind: 'bench', shard: null, events: { published: 15, lost: 3 } });
    const all = createLatencyHistogram();
    for (const v of parts.flat()) all.recordMs(v);
    const reference = summarizeLatency(decodeLatencyHistogram(all.encode()));
    expect(merged.latency.summary.count).toBe(1000);
    expect(merged.latency.summary.p99Ms).toBe(reference.p99Ms);
    expect(merged.latency.summary.p50Ms).toBe(reference.p50Ms);
    // The merged file is itself a valid result.
    expect((await runCli(['stats', 'report', out])).exitCode).toBe(0);
  });

  it('refuses shards of different runs and a shard given twice (exit 2)', async () => {
    const dir = await tempDir();
    const a = await write(dir, 'a.json', makeResult({ shard: { index: 1, count: 2 } }));
    const b = await write(dir, 'b.json', makeResult({ shard: { index: 2, count: 2 }, scenario: { name: 'store-orders', hash: 'sha256:def' } }));
    const c = await write(dir, 'c.json', makeResult({ shard: { index: 1, count: 2 } }));
    const different = await runCli(['stats', 'merge', a, b, '-o', join(dir, 'x.json')]);
    expect(different.exitCode).toBe(2);
    expect(different.stderr).toMatch(/^ssekit: .*b\.json: scenario store-orders \(sha256:def\) differs from .*a\.json's admin-orders/m);
    const twice = await runCli(['stats', 'merge', a, c]);
    expect(twice.exitCode).toBe(2);
    expect(twice.stderr).toMatch(/c\.json: shard 1\/2 given twice/);
  });
});
