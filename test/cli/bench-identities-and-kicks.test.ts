/**
 * Issue 11 points 1–2: a fleet minting JWTs gets one identity per virtual user unless a subject
 * is fixed, and a fleet the server knocks off (one stream per user, all clients one user) fails
 * with the cause named — against ssekit serve and against a FastAPI backend written from the
 * seed, which closes the older of two streams of one admin.
 */
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { requireFastApi } from '../helpers/fastapi-server.js';
import { runCli } from '../helpers/run-cli.js';
import { startTestServer } from '../helpers/serve-process.js';

const MINT = ['--jwt-secret', DEV_JWT_SECRET, '--role', 'admin'];

async function benchJson(args: readonly string[]): Promise<{ exitCode: number; result: BenchResult; stderr: string }> {
  const run = await runCli(['bench', ...args, '--clients', '12', '--ramp', '300ms', '--duration', '2s', '--json'], { timeoutMs: 40_000 });
  return { exitCode: run.exitCode, result: JSON.parse(run.stdout) as BenchResult, stderr: run.stderr };
}

describe('bench identities and kicked fleets', () => {
  it('mints one identity per virtual user by default, so a one-stream-per-admin server keeps every stream (serve)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const { exitCode, result, stderr } = await benchJson([`${server.url}/api/admin/events`, ...MINT]);
    expect(exitCode, stderr).toBe(0);
    expect(stderr).toMatch(/identity\s+one identity per client \(sub vu-0 … vu-11\)/);
    expect(result.clients.peakOpen).toBe(12);
    expect(result.reconnects.byReason['kicked'] ?? 0).toBe(0);
    expect(result.thresholds.find((t) => t.metric === 'open')).toMatchObject({ passed: true });
  });

  it('fails a fleet sharing one subject that the server keeps kicking off, and names the cause (serve)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const { exitCode, result, stderr } = await benchJson([`${server.url}/api/admin/events`, ...MINT, '--sub', '1']);
    expect(exitCode).toBe(99);
    expect(stderr).toMatch(/identity\s+one identity for all 12 clients \(sub 1\)/);
    expect(result.reconnects.byReason['kicked']).toBeGreaterThan(0);
    expect(result.thresholds.find((t) => t.metric === 'open')).toMatchObject({ passed: false });
    expect(result.diagnoses?.[0]).toMatch(/^the server closed \d+ streams within 1 s of opening; all clients share one identity \(sub 1\)/);
  });

  it('does the same against a FastAPI backend written from seed 000', async (context) => {
    const api = await requireFastApi(context);
    const perUser = await benchJson([`${api.origin}/api/admin/events`, ...MINT]);
    expect(perUser.exitCode, perUser.stderr).toBe(0);
    expect(perUser.result.clients.peakOpen).toBe(12);
    const shared = await benchJson([`${api.origin}/api/admin/events`, ...MINT, '--sub', '7']);
    expect(shared.exitCode).toBe(99);
    expect(shared.result.diagnoses?.join('\n')).toMatch(/share one identity \(sub 7\)/);
  });

  it('keeps {{vu}} in the claims as the subject template', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const { exitCode, stderr } = await benchJson([`${server.url}/api/admin/events`, '--jwt-secret', DEV_JWT_SECRET, '--claims', '{"role":"admin","sub":"a-{{vu}}"}']);
    expect(exitCode, stderr).toBe(0);
    expect(stderr).toMatch(/one identity per client \(sub a-0 … a-11\)/);
  });
});
