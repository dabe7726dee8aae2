/**
 * `publish -o result.json` writes a typed result that `stats report` and `stats compare` read
 * like a bench result (the same histogram blocks); `stats merge` takes bench shards only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import type { PublishResult } from '../../src/metrics/publish-result.js';
import { tempDir as makeTempDir } from '../helpers/temp-dir.js';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';

const AUTH = ['--jwt-secret', DEV_JWT_SECRET, '--role', 'admin', '--sub', '1'];

const tempDir = (): Promise<string> => makeTempDir('publish');

describe('publish result files', () => {
  it('writes -o, which stats report prints and stats compare sets beside another run', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const dir = await tempDir();
    const files = [join(dir, 'a.json'), join(dir, 'b.json')];
    for (const file of files) {
      const run = await runCli(['publish', `${server.url}/orders`, ...AUTH, '--watch', `${server.url}/api/admin/events`, '--count', '3', '--rate', '20', '-o', file]);
      expect(run.exitCode, run.stderr).toBe(0);
    }
    const result = JSON.parse(await readFile(files[0] as string, 'utf8')) as PublishResult;
    expect(result).toMatchObject({ schemaVersion: 1, kind: 'publish', sent: 3, delivered: 3, endReason: 'passed' });
    expect(result.events).toHaveLength(3);

    const report = await runCli(['stats', 'report', files[0] as string]);
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/ssekit publish · POST http:\/\/127\.0\.0\.1:\d+\/orders/);
    expect(report.stdout.match(/delivered 1\/1 in/g)).toHaveLength(3);
    expect(report.stdout).toMatch(/PASS: p99/);

    const compare = await runCli(['stats', 'compare', files[0] as string, files[1] as string, '--json']);
    expect(compare.exitCode, compare.stderr).toBe(0);
    const comparison = JSON.parse(compare.stdout) as { figures: { figure: string; base: number | null; next: number | null }[]; isSameScenario: boolean };
    expect(comparison.isSameScenario).toBe(true);
    expect(comparison.figures.find((f) => f.figure === 'delivered')).toMatchObject({ base: 3, next: 3 });
    expect(comparison.figures.find((f) => f.figure === 'producer call p50')?.base).toBeGreaterThan(0);

    const merge = await runCli(['stats', 'merge', files[0] as string, files[1] as string]);
    expect(merge.exitCode).toBe(2);
    expect(merge.stderr).toMatch(/a\.json: a publish result: merge takes bench results/);
  });
});
