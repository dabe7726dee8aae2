/**
 * The leak test tells the faulty server from the healthy one (issue 5): the same churning
 * fleet against `serve` and `serve --fault leak` (closed streams never unregistered, the seed
 * 003 registry bug). ssekit's own sockets must return to their starting count too.
 */
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import { parseFaults } from '../../src/serve/faults.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';

async function benchAgainst(faults: string[]): Promise<{ exitCode: number; result: BenchResult; stderr: string }> {
  const server = await startTestServer({ profiles: ['admin-orders'], faults: parseFaults(faults) });
  const run = await runCli(
    [
      'bench', `${server.url}/api/admin/events`,
      '--jwt-secret', DEV_JWT_SECRET, '--claims', '{"role":"admin","sub":"vu-{{vu}}"}',
      '--clients', '20', '--ramp', '500ms', '--duration', '3s', '--churn', '0.3', '--churn-mode', 'abrupt',
      '--server-stats', `${server.url}/metrics`, '--server-metric', 'sse_connections_active{role="admin"}',
      '--threshold', 'leaks==0', '--leak-grace', '1500ms', '--json',
    ],
    { timeoutMs: 60_000 },
  );
  return { exitCode: run.exitCode, result: JSON.parse(run.stdout) as BenchResult, stderr: run.stderr };
}

describe('connection-leak detection', () => {
  it('does not flag a healthy serve, and ssekit releases its own sockets', async () => {
    const { exitCode, result, stderr } = await benchAgainst([]);
    expect(exitCode, stderr).toBe(0);
    expect(result.leak).toMatchObject({ verdict: 'ok', baseline: 0, final: 0, leaked: 0 });
    expect(result.reconnects.byReason['churn-abrupt']).toBeGreaterThan(0);
    expect(result.clients.peakOpen).toBe(20);
    expect(result.leak.samples.length).toBeGreaterThan(0);
    expect(result.self.socketsAtEnd).toBe(result.self.socketsAtStart);
  });

  it('flags serve --fault leak and fails the leaks==0 gate with exit 99', async () => {
    const { exitCode, result } = await benchAgainst(['leak']);
    expect(exitCode).toBe(99);
    expect(result.leak.verdict).toBe('leak');
    // Every stream ever opened is still counted: at least the 20 clients plus the churned ones.
    expect(result.leak.leaked).toBeGreaterThanOrEqual(20);
    expect(result.leak.maxDrift).toBeGreaterThan(0);
    expect(result.thresholds.filter((t) => !t.passed)).toEqual([expect.objectContaining({ expression: 'leaks==0', passed: false })]);
    // The guards: the lag guard's limit comes from SSEKIT_MAX_SELF_LAG, which the test helper raises.
    expect(result.thresholds.map((t) => t.expression)).toEqual(['leaks==0', 'open>=95%', 'lag.p99<10000ms', 'undercount==0']);
    expect(result.self.socketsAtEnd).toBe(result.self.socketsAtStart);
  });
});
