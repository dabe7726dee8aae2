/**
 * Issue 11 points 4 and 5: the server's figures are read with their own credentials and checked
 * before any client starts (a 403 or a typo is one line and an exit code, not a full run that
 * ends "not measured"), and a server that counts fewer streams than ssekit holds is its own
 * verdict. Against serve and against a FastAPI backend whose stats want a superadmin.
 */
import { describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { requireFastApi } from '../helpers/fastapi-server.js';
import { runCli } from '../helpers/run-cli.js';
import { mintToken, startTestServer } from '../helpers/serve-process.js';

const MINT = ['--jwt-secret', DEV_JWT_SECRET, '--role', 'admin'];
const SHORT = ['--clients', '8', '--ramp', '200ms', '--duration', '3s', '--leak-grace', '2s'];

describe('bench server figures', () => {
  it('stops before any client when the stats refuse it (FastAPI 403, no token sent), naming the flag to fix it', async (context) => {
    const api = await requireFastApi(context);
    const run = await runCli(['bench', `${api.origin}/api/admin/events`, ...MINT, ...SHORT, '--server-stats', `${api.origin}/api/v1/stats`, '--server-metric', 'total_connections']);
    expect(run.exitCode, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/ssekit: server stats refused: server answered 403 Forbidden \(detail: "Not authenticated"\)|ssekit: server stats refused: server answered 403 Forbidden/);
    expect(run.stderr).toMatch(/hint: .*--server-stats-token/);
    // Refused at the first read: no client started, no progress, no report.
    expect(run.stderr).not.toMatch(/^(ramp-up|steady|settling) /m);
    expect(run.stdout).toBe('');
  });

  it('measures leaks through a stats endpoint with its own token (--server-stats-token)', async (context) => {
    const api = await requireFastApi(context);
    const token = await mintToken({ sub: '0', role: 'superadmin' });
    const run = await runCli(['bench', `${api.origin}/api/admin/events`, ...MINT, ...SHORT, '--server-stats', `${api.origin}/api/v1/stats`, '--server-metric', 'total_connections', '--server-stats-token', token, '--json'], { timeoutMs: 40_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as BenchResult;
    expect(result.leak).toMatchObject({ verdict: 'ok', baseline: 0, final: 0, leaked: 0 });
    expect(run.stdout).not.toContain(token);
  });

  it('reports an undercounting server (its registry forgets every third stream) as its own failing verdict', async (context) => {
    const api = await requireFastApi(context, { LOSE_EVERY: '3' });
    // 12 streams, 4 of them forgotten: more than a read racing a burst of opens could explain.
    const run = await runCli(['bench', `${api.origin}/api/admin/events`, ...MINT, ...SHORT, '--clients', '12', '--server-stats', `${api.origin}/metrics`, '--server-metric', 'sse_connections_active{role="admin"}', '--json'], { timeoutMs: 40_000 });
    expect(run.exitCode, run.stderr).toBe(99);
    const result = JSON.parse(run.stdout) as BenchResult;
    expect(result.leak.verdict).toBe('undercount');
    expect(result.leak.undercounted).toBeGreaterThanOrEqual(2);
    expect(result.thresholds.find((t) => t.expression === 'undercount==0')).toMatchObject({ passed: false });
    expect(result.diagnoses?.join('\n')).toMatch(/fewer streams than ssekit held/);
  });

  it('names the nearest figures when --server-metric has a typo (exit 2, before any client)', async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const run = await runCli(['bench', `${server.url}/api/admin/events`, ...MINT, ...SHORT, '--server-stats', `${server.url}/metrics`, '--server-metric', 'sse_conections_active']);
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/^ssekit: --server-metric 'sse_conections_active' is not in http:\/\/127\.0\.0\.1:\d+\/metrics; nearest: sse_connections_active/m);
  });

  it("says a URL that is not stats (serve's index page, or a stream) is not, in one line", async () => {
    const server = await startTestServer({ profiles: ['admin-orders'] });
    const index = await runCli(['bench', `${server.url}/api/admin/events`, ...MINT, ...SHORT, '--server-stats', `${server.url}/`, '--server-metric', 'total_connections']);
    expect(index.exitCode).toBe(2);
    expect(index.stderr).toMatch(/--server-metric 'total_connections' is not in \S+; this JSON holds no number, only text and lists: is it a stats endpoint\?/);
    const stream = await runCli(['bench', `${server.url}/api/admin/events`, ...MINT, ...SHORT, '--server-stats', `${server.url}/api/admin/events`, '--server-metric', 'x']);
    expect([2, 5]).toContain(stream.exitCode);
    expect(stream.stderr.split('\n').filter((l) => l.startsWith('ssekit:'))).toHaveLength(1);
  });

  it('reuses the streams\' credentials for a stats URL on their origin (serve\'s /metrics needs none, salon stats need superadmin)', async () => {
    const server = await startTestServer({ profiles: ['salon'] });
    const run = await runCli([
      'bench', `${server.url}/api/v1/notifications/stream`, '--jwt-secret', DEV_JWT_SECRET, '--claims', '{"role":"admin","salon_id":1}', ...SHORT,
      '--server-stats', `${server.url}/api/v1/notifications/stream/stats`, '--server-metric', 'active_admin_connections',
    ]);
    // The admin token is not a superadmin's: refused before the run, with the way out.
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toMatch(/hint: the token sent was not enough: give the stats their own credentials with --server-stats-token/);
  });
});
