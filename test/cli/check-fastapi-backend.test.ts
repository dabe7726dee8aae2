/**
 * Issue 17 point 3: `ssekit check` against an SSE backend ssekit did not write — seed 000 on
 * FastAPI (`test/fixtures/fastapi/admin_events.py`, keepalive every KEEPALIVE_SECONDS, one
 * stream per admin by closing the older). It keeps most of the admin-orders contract and differs
 * from it in three places, each asserted with its reason:
 * - auth: FastAPI's HTTPBearer answers 403 `{"detail":"Not authenticated"}` to a request with
 *   no token, where the contract (RFC 6750) says 401;
 * - server-figures: its /metrics has only `sse_connections_active`, not §1's
 *   `admin_events_emitted_total` and `sse_connection_duration_seconds` (the gauge is right);
 * - graceful-end: it never ends an idle stream (§1: "disconnect after 1 hour of inactivity").
 */
import { describe, expect, it } from 'vitest';
import { contractPath, describeRun, fixturePath, runCheck } from '../fixtures/check/check-run.js';
import { requireFastApi } from '../helpers/fastapi-server.js';

describe('check admin-orders against a FastAPI backend', () => {
  it('passes where FastAPI keeps the contract and fails auth, server-figures and graceful-end, saying why', async (context) => {
    const api = await requireFastApi(context, { KEEPALIVE_SECONDS: '0.5' });
    const run = await runCheck(contractPath('admin-orders'), api.origin, ['--heartbeat-interval', '500ms', '--inactivity-timeout', '2s']);
    expect(run.exitCode, describeRun(run)).toBe(99);
    expect(run.names('pass'), describeRun(run)).toEqual(['headers', 'heartbeat', 'events', 'stream-limit', 'latency']);
    expect(run.names('fail')).toEqual(['auth', 'server-figures', 'graceful-end']);
    expect(run.evidence('auth')).toBe('no token → 403 Forbidden ("Not authenticated"), contract: 401; customer Bearer → 403; expired Bearer → 401; Bearer → 200; ?token= → 200');
    expect(run.evidence('server-figures')).toBe('/metrics: missing admin_events_emitted_total, sse_connection_duration_seconds (has 1 of the 3 names)');
    expect(run.result.checks.find((c) => c.name === 'server-figures')?.details).toEqual(['sse_connections_active{role="admin"} 0 → 2 → 0 with 2 streams held, then closed']);
    expect(run.evidence('graceful-end')).toMatch(/^the stream was still open [\d.]+ s after opening, with no event since; contract: the server ends it after 2\.00 s of inactivity$/);
    // Its one-stream-per-admin rule closes the older stream, which the contract chose too.
    expect(run.evidence('stream-limit')).toMatch(/^1 stream open; the 2nd opened and the oldest was ended \(a clean end\)/);
  });

  it('reads its stats JSON as a superadmin (the counts follow the streams), and is refused as an admin', async (context) => {
    const api = await requireFastApi(context);
    const run = await runCheck(fixturePath('fastapi-stats.yaml'), api.origin);
    expect(run.names('pass'), describeRun(run)).toEqual(['stats']);
    expect(run.evidence('stats')).toBe('/api/v1/stats matches its schema; total_connections 0 → 2 → 0 with 2 streams held, then closed');
    expect(run.evidence('stats-as-admin')).toMatch(/^server answered 403 Forbidden \("superadmin role required"\): GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/stats$/);
    expect(run.result.checks.find((c) => c.name === 'stats-as-admin')?.details).toEqual(['hint: the token was accepted but lacks the role for the stats (seed 002: superadmin)']);
  });
});
