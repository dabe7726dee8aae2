/**
 * The four scenario files run against `ssekit serve` as it is (every profile mounted), scaled
 * down by flags; each must pass its own thresholds and write a complete result file.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';

const SCENARIOS = fileURLToPath(new URL('../../scenarios/', import.meta.url));

describe('scenarios against serve', () => {
  it.each(['admin-orders', 'salon-notifications', 'store-orders', 'gateway-channels'])('%s passes and writes its result', async (name) => {
    const server = await startTestServer({ heartbeatMs: 1000 });
    const out = join(await mkdtemp(join(tmpdir(), 'ssekit-bench-')), `${name}.json`);
    const run = await runCli([
      'bench', `${SCENARIOS}${name}.yaml`, '--target', server.url,
      '--clients', '16', '--ramp', '300ms', '--duration', '2500ms', '--rate', '8', '--leak-grace', '2s', '-o', out,
      // The scenario's own 500 ms target is for real servers; a loaded test machine only has to be complete.
      '--threshold', 'p99<10s', '--threshold', 'loss==0', '--threshold', 'leaks==0',
    ], { timeoutMs: 60_000 });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('PASSED');
    const result = JSON.parse(await readFile(out, 'utf8')) as BenchResult;
    expect(result).toMatchObject({ schemaVersion: 2, kind: 'bench', endReason: 'passed', scenario: { name } });
    expect(result.events.published).toBeGreaterThan(10);
    expect(result.events.delivered).toBeGreaterThan(0);
    expect(result.events.lost).toBe(0);
    expect(result.latency.summary.count).toBe(result.events.delivered);
    expect(result.latency.hdr).toMatch(/^HIST/);
    expect(result.leak.verdict).toBe('ok');
    expect(result.thresholds.every((t) => t.passed)).toBe(true);
  });
});
