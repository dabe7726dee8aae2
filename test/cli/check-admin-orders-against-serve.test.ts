/**
 * Issue 17: `ssekit check contracts/admin-orders.yaml` passes against `ssekit serve`, and serve
 * started with a fault or a changed setting fails exactly the checks it should. Serve runs with
 * a 500 ms keepalive and a 3 s inactivity timeout, and the check is told so by flags (the
 * contract's 30 s and 1 h tested short).
 */
import { describe, expect, it } from 'vitest';
import { contractPath, describeRun, runCheck, SHORT_CHECK, SHORT_SERVE, startServeCli } from '../fixtures/check/check-run.js';

const CONTRACT = contractPath('admin-orders');
const SERVE = ['--profile', 'admin-orders', ...SHORT_SERVE];

describe('check admin-orders against ssekit serve', () => {
  it('passes every check, each with its evidence', async () => {
    const url = await startServeCli(SERVE);
    const run = await runCheck(CONTRACT, url, SHORT_CHECK);
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(run.names('pass')).toEqual(['headers', 'auth', 'heartbeat', 'events', 'stream-limit', 'latency', 'server-figures', 'graceful-end']);
    expect(run.evidence('heartbeat')).toMatch(/^:keepalive: longest gap \d+ ms ≤ 1\.50 s over 2\.\d\d s \(\d+ seen\)$/);
    expect(run.evidence('auth')).toBe('no token → 401; customer Bearer → 403; expired Bearer → 401; Bearer → 200; ?token= → 200');
    expect(run.evidence('latency')).toMatch(/^5\/5 delivered, max \d+ ms < 500 ms/);
    expect(run.evidence('stream-limit')).toMatch(/^1 stream open; the 2nd opened and the oldest was ended \(a clean end\)/);
    expect(run.evidence('server-figures')).toContain('sse_connections_active{role="admin"} 0 → 2 → 0 with 2 streams held, then closed');
    expect(run.result).toMatchObject({ schemaVersion: 1, kind: 'check', endReason: 'passed', counts: { passed: 8, failed: 0, skipped: 0 } });
  });

  it('--heartbeat 2s, --fault delay=600ms and --stream-limit-policy reject fail heartbeat, latency and stream-limit, and only those', async () => {
    const url = await startServeCli([...SERVE, '--heartbeat', '2s', '--fault', 'delay=600ms', '--stream-limit-policy', 'reject']);
    const run = await runCheck(CONTRACT, url, SHORT_CHECK);
    expect(run.exitCode, describeRun(run)).toBe(99);
    expect(run.names('fail'), describeRun(run)).toEqual(['heartbeat', 'stream-limit', 'latency']);
    expect(run.evidence('heartbeat')).toMatch(/^:keepalive: (longest gap|none in) /);
    // Every event is held 600 ms: the max is at least that, whatever the machine's load adds.
    expect(run.evidence('latency')).toMatch(/^5\/5 delivered, max [\d.]+ m?s ≥ 500 ms/);
    expect(run.result.checks.find((c) => c.name === 'latency')?.figures?.['maxMs']).toBeGreaterThanOrEqual(600);
    expect(run.evidence('stream-limit')).toMatch(/^1 streams? open; the 2nd got 409 Conflict \("stream_limit".*contract: it opens and the oldest stream is closed$/);
  });

  it('--fault leak fails server-figures and --inactivity-timeout 0 fails graceful-end, and nothing else', async () => {
    const url = await startServeCli([...SERVE, '--fault', 'leak', '--inactivity-timeout', '0']);
    const run = await runCheck(CONTRACT, url, SHORT_CHECK);
    expect(run.names('fail'), describeRun(run)).toEqual(['server-figures', 'graceful-end']);
    expect(run.evidence('server-figures')).toMatch(/sse_connections_active\{role="admin"\} (\d+) → \d+ → \d+: still \d+ 2\.00 s after the 2 streams closed \(2 not unregistered: a leak\)/);
    expect(run.evidence('graceful-end')).toMatch(/^the stream was still open [\d.]+ s after opening, with no event since; contract: the server ends it after 3\.00 s of inactivity$/);
  });
});
