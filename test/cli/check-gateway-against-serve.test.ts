/**
 * Issue 17: the gateway contract (§5) passes against `ssekit serve`, and a serve with no replay
 * buffer, the other stream-limit policy, fewer streams per user or a slow heartbeat fails
 * exactly the checks it should.
 */
import { describe, expect, it } from 'vitest';
import { contractPath, describeRun, runCheck, SHORT_CHECK } from '../fixtures/check/check-run.js';
import { startTestServer } from '../helpers/serve-process.js';

const CONTRACT = contractPath('gateway');
const SHORT = { profiles: ['gateway'], heartbeatMs: 500 } as const;

describe('check gateway against ssekit serve', () => {
  it('passes every check: ids and Last-Event-ID replay, 12 typed payloads, 5 streams then 409, forbidden then close', async () => {
    const server = await startTestServer(SHORT);
    const run = await runCheck(CONTRACT, server.url, SHORT_CHECK);
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(run.names('fail')).toEqual([]);
    expect(run.evidence('resume')).toMatch(/^every event has an id; reconnected with Last-Event-ID "\d+": 2 missed events replayed in order \(ids "\d+", "\d+"\)$/);
    expect(run.evidence('stream-limit')).toMatch(/^5 streams open; the 6th got 409 Conflict \("stream_limit".*\); the 5 stayed open$/);
    expect(run.evidence('graceful-end')).toMatch(/^error "\{\\"code\\":\\"forbidden\\"\}", then a clean end [\d.]+ m?s after opening as tasks-only$/);
  });

  it('--replay-buffer 0 and --stream-limit-policy close-oldest fail resume and stream-limit, and only those', async () => {
    const server = await startTestServer({ ...SHORT, replayBufferSize: 0, streamLimitPolicy: 'close-oldest' });
    const run = await runCheck(CONTRACT, server.url, SHORT_CHECK);
    expect(run.names('fail'), describeRun(run)).toEqual(['resume', 'stream-limit']);
    expect(run.evidence('resume')).toMatch(/^reconnected with Last-Event-ID "\d+": 0 of 2 missed events replayed within 3\.00 s; the server sent warning .*replay_truncated/);
    expect(run.evidence('stream-limit')).toMatch(/^5 streams open; the 6th opened too and the oldest stream was closed instead \(close-oldest\), contract: 409/);
  });

  it('--max-streams-per-user 3 and --heartbeat 2s fail stream-limit and heartbeat, and only those', async () => {
    const server = await startTestServer({ ...SHORT, heartbeatMs: 2000, maxStreamsPerUser: 3 });
    const run = await runCheck(CONTRACT, server.url, [...SHORT_CHECK, '--only', 'heartbeat', '--only', 'stream-limit', '--only', 'latency']);
    expect(run.names('fail'), describeRun(run)).toEqual(['heartbeat', 'stream-limit']);
    expect(run.names('pass')).toEqual(['latency']);
    expect(run.evidence('stream-limit')).toMatch(/^only 3 of the 5 allowed streams opened: stream 4 got 409 Conflict \("stream_limit"/);
  });
});
