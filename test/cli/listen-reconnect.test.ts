/**
 * Reconnect behaviour of `ssekit listen` against real servers: the server's `retry:` (clamped),
 * `X-Reconnect-Delay`, backoff with jitter reset after a successful open, `Last-Event-ID` on
 * every reconnect, 204 stops, refusals (401/403/404/409, `event: error`) stop with exit 4, and
 * unreachable targets end with exit 3 after the retries. Delays are kept tiny with flags and
 * `retry:` lines; where a slow path would be wrong, a huge --retry-initial makes it time out.
 */
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/run-cli.js';
import { jsonResponse, startSseServer } from '../helpers/sse-server.js';

const jsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** `reconnecting in 1.8 s (attempt 3): ...` → [delayMs, attempt] for every such stderr line. */
function reconnectLines(stderr: string): { delayMs: number; attempt: number; line: string }[] {
  const out: { delayMs: number; attempt: number; line: string }[] = [];
  for (const line of stderr.split('\n')) {
    const m = /reconnecting in ([\d.]+) (µs|ms|s|m)(?: (\d+) s)? \(attempt (\d+)\)/.exec(line);
    if (!m) continue;
    const unit = { µs: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms'];
    out.push({ delayMs: Number(m[1]) * unit + Number(m[3] ?? 0) * 1000, attempt: Number(m[4]), line });
  }
  return out;
}

/** A URL nobody listens on (port 1 is never served here; a closed ephemeral port could be reused by a parallel test). */
const REFUSED_URL = 'http://127.0.0.1:1/events';

const SLOW_BACKOFF = ['--retry-initial', '10m', '--retry-max', '10m'];

describe('listen reconnect delays', () => {
  it("waits the server's retry: (clamped up to 100 ms) and resends the last event id", async () => {
    const server = await startSseServer([{ body: 'retry: 50\nid: 1\ndata: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', ...SLOW_BACKOFF]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => [e['data'], e['id']])).toEqual([
      ['a', '1'],
      ['b', '1'],
    ]);
    expect(server.requests[0]?.headers['last-event-id']).toBeUndefined();
    expect(server.requests[1]?.headers['last-event-id']).toBe('1');
    expect(result.stderr).toMatch(/reconnecting in 100 ms/);
  });

  it('uses the X-Reconnect-Delay header (ms) when the stream sent no retry:', async () => {
    const server = await startSseServer([{ headers: { 'x-reconnect-delay': '150' }, body: 'id: 7\ndata: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', ...SLOW_BACKOFF]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/reconnecting in 150 ms/);
    expect(server.requests[1]?.headers['last-event-id']).toBe('7');
  });

  it('prefers the retry: field over the X-Reconnect-Delay header', async () => {
    const server = await startSseServer([{ headers: { 'x-reconnect-delay': '600000' }, body: 'retry: 120\ndata: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', ...SLOW_BACKOFF]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/reconnecting in 120 ms/);
  });

  it('clamps a hostile retry: 99999999999 to 10 minutes instead of looping', async () => {
    // 99999999999 ms overflows setTimeout (it would fire after 1 ms): a hot reconnect loop.
    const server = await startSseServer([{ body: 'retry: 99999999999\ndata: a\n\n' }, { body: 'data: b\n\n' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-time', '1500ms']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/reconnecting in 10 m\b/);
    expect(server.requests).toHaveLength(1);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['a']);
  });

  it('clamps retry: 0 up so that a server closing at once is not hammered', async () => {
    const server = await startSseServer({ body: 'retry: 0\ndata: a\n\n' });
    const result = await runCli(['listen', server.url, '--json', '--max-time', '1s']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests.length).toBeGreaterThanOrEqual(2);
    // 1 s at >= 100 ms per reconnect is about 10 requests; a hot loop makes hundreds.
    expect(server.requests.length).toBeLessThanOrEqual(20);
  });
});

describe('listen Last-Event-ID', () => {
  it('sends the latest id on every reconnect and keeps it for events without an id', async () => {
    const server = await startSseServer([
      { body: 'retry: 1\nid: a\ndata: 1\n\n' },
      { body: 'id: b\ndata: 2\n\n' },
      { body: 'data: 3\n\n', then: 'hold' },
    ]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '3', ...SLOW_BACKOFF]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, 'a', 'b']);
    expect(jsonLines(result.stdout).map((e) => e['id'])).toEqual(['a', 'b', 'b']);
  });

  it('sends --last-event-id on the first request', async () => {
    const server = await startSseServer({ body: 'data: x\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--last-event-id', 'resume-42']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests[0]?.headers['last-event-id']).toBe('resume-42');
  });

  it('sends the id of an id-only block (no data) on reconnect', async () => {
    const server = await startSseServer([{ body: 'retry: 1\ndata: a\n\nid: 9\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', ...SLOW_BACKOFF]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests[1]?.headers['last-event-id']).toBe('9');
    expect(jsonLines(result.stdout).map((e) => e['id'])).toEqual(['', '9']);
  });

  it('sends no Last-Event-ID after the server reset the id with an empty id:', async () => {
    // WHATWG: the header is set only when the last event ID string is not empty.
    const server = await startSseServer([{ body: 'retry: 1\nid: 5\ndata: a\n\nid\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', ...SLOW_BACKOFF]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests[1]?.headers).not.toHaveProperty('last-event-id');
  });

  it('does not send an id from a block the drop cut short', async () => {
    const server = await startSseServer([
      { body: ['retry: 1\nid: 1\ndata: a\n\nid: 2\ndata: part', { destroy: true }] },
      { body: 'data: b\n\n', then: 'hold' },
    ]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', ...SLOW_BACKOFF]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests[1]?.headers['last-event-id']).toBe('1');
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['a', 'b']);
  });
});

describe('listen ends and refusals', () => {
  it('stops on 204 No Content with exit 0 and no reconnect', async () => {
    const server = await startSseServer({ status: 204 });
    const result = await runCli(['listen', server.url, '--json', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it('stops on a 204 answered to a reconnect, keeping the events before it', async () => {
    const server = await startSseServer([{ body: 'retry: 1\ndata: a\n\n' }, { status: 204 }, { body: 'data: never\n\n' }]);
    const result = await runCli(['listen', server.url, '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests).toHaveLength(2);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['a']);
  });

  it('with --no-reconnect, a stream the server ends exits 0 after its events', async () => {
    const server = await startSseServer({ body: 'data: a\n\ndata: b\n\n' });
    const result = await runCli(['listen', server.url, '--json', '--no-reconnect']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests).toHaveLength(1);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['a', 'b']);
  });

  it.each([
    [401, 'Unauthorized'],
    [403, 'Forbidden'],
    [404, 'Not Found'],
    [400, 'Bad Request'],
  ])('stops on %i with exit 4 and one ssekit: line, without reconnecting', async (status) => {
    const server = await startSseServer({ status, headers: { 'content-type': 'text/plain' }, body: 'no' });
    const result = await runCli(['listen', server.url, '--json', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(4);
    expect(server.requests).toHaveLength(1);
    const errorLines = result.stderr.split('\n').filter((l) => l.startsWith('ssekit: '));
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain(String(status));
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('stops on 409 {"code":"stream_limit"} with exit 4 and quotes the code', async () => {
    const server = await startSseServer(jsonResponse(409, { code: 'stream_limit', message: 'at most 5 streams' }));
    const result = await runCli(['listen', server.url, '--json', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/^ssekit: .*stream_limit/m);
    expect(server.requests).toHaveLength(1);
  });

  it('stops on event: error {"code":"forbidden"} with exit 4, quoting the code, after printing earlier events', async () => {
    const server = await startSseServer({ body: 'retry: 1\ndata: before\n\nevent: error\ndata: {"code":"forbidden"}\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json']);
    expect(result.exitCode, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/^ssekit: .*forbidden/m);
    expect(server.requests).toHaveLength(1);
    expect(jsonLines(result.stdout)[0]?.['data']).toBe('before');
  });

  it('treats an event: error without a JSON code as an ordinary event', async () => {
    const server = await startSseServer({ body: 'event: error\ndata: something odd\n\ndata: after\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => e['event'])).toEqual(['error', 'message']);
  });
});

describe('listen backoff on failures', () => {
  it('retries 5xx with growing delays, and starts over after a successful open', async () => {
    const unavailable = { status: 503, headers: { 'content-type': 'text/plain' }, body: 'busy' } as const;
    const server = await startSseServer([
      unavailable,
      unavailable,
      unavailable,
      unavailable,
      { body: 'data: a\n\n' },
      unavailable,
      { body: 'data: b\n\n', then: 'hold' },
    ]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', '--retry-initial', '20ms', '--retry-max', '1s', '--max-retries', '5']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests).toHaveLength(7);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['a', 'b']);
    const lines = reconnectLines(result.stderr);
    expect(lines, result.stderr).toHaveLength(6);
    for (const l of lines.slice(0, 4)) expect(l.line).toMatch(/\(attempt \d+\): 503 Service Unavailable$/);
    const [d1, d2, d3, d4, afterOpen] = lines;
    // Consecutive failures count up; the drop after the successful open starts again.
    expect([d2, d3, d4].map((l) => l?.attempt)).toEqual([2, 3, 4].map((n) => (d1?.attempt ?? 0) + n - 1));
    expect(afterOpen?.attempt).toBeLessThanOrEqual(d1?.attempt ?? 0);
    // Exponential: the 4th delay (base 160 ms) is above the 1st (base 20 ms), and the delay after
    // the open is back near --retry-initial.
    expect(d4?.delayMs).toBeGreaterThan(d1?.delayMs ?? Infinity);
    expect(afterOpen?.delayMs).toBeLessThan(d4?.delayMs ?? 0);
    expect(afterOpen?.delayMs).toBeLessThanOrEqual(40);
  });

  it('starts the backoff at 500 ms by default', async () => {
    const server = await startSseServer({ status: 503, headers: { 'content-type': 'text/plain' } });
    const cli = startCli(['listen', server.url, '--json']);
    const line = await cli.waitForLine(/reconnecting in/);
    const delay = reconnectLines(line)[0]?.delayMs ?? NaN;
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(500);
  });

  it('never waits longer than --retry-max', async () => {
    const unavailable = { status: 502, headers: { 'content-type': 'text/plain' } } as const;
    const server = await startSseServer([unavailable, unavailable, unavailable, unavailable, unavailable, unavailable, { body: 'data: ok\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--retry-initial', '20ms', '--retry-max', '50ms', '--max-retries', '10']);
    expect(result.exitCode, result.stderr).toBe(0);
    const delays = reconnectLines(result.stderr).map((l) => l.delayMs);
    expect(delays).toHaveLength(6);
    for (const d of delays) expect(d).toBeLessThanOrEqual(50);
  });

  it('adds jitter: three clients failing the same way do not wait the same time', async () => {
    const server = await startSseServer({ status: 503, headers: { 'content-type': 'text/plain' } });
    const clis = [0, 1, 2].map(() => startCli(['listen', server.url, '--json', '--retry-initial', '900ms', '--retry-max', '900ms']));
    const lines = await Promise.all(clis.map((c) => c.waitForLine(/reconnecting in/)));
    const delays = lines.map((l) => reconnectLines(l)[0]?.delayMs);
    for (const d of delays) {
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(900);
    }
    expect(new Set(delays).size, `delays: ${delays.join(', ')}`).toBeGreaterThan(1);
  });

  it('gives up with exit 3 after --max-retries consecutive failures', async () => {
    const server = await startSseServer({ status: 503, headers: { 'content-type': 'text/plain' } });
    const result = await runCli(['listen', server.url, '--json', '--max-retries', '2', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(3);
    // The first request and 2 retries.
    expect(server.requests).toHaveLength(3);
    expect(result.stderr).toMatch(/^ssekit: .*503/m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('counts only consecutive failures against --max-retries (a successful open resets the count)', async () => {
    const unavailable = { status: 503, headers: { 'content-type': 'text/plain' } } as const;
    const server = await startSseServer([unavailable, unavailable, { body: 'data: a\n\n' }, unavailable, unavailable, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', '--max-retries', '2', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests).toHaveLength(6);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['a', 'b']);
  });

  it('retries 5 times by default before exit 3', async () => {
    const server = await startSseServer({ status: 500, headers: { 'content-type': 'text/plain' } });
    const result = await runCli(['listen', server.url, '--json', '--retry-initial', '5ms', '--retry-max', '20ms']);
    expect(result.exitCode, result.stderr).toBe(3);
    expect(server.requests).toHaveLength(6);
  });

  it('with --no-reconnect, a 503 is unreachable (exit 3) after one request', async () => {
    const server = await startSseServer({ status: 503, headers: { 'content-type': 'text/plain' } });
    const result = await runCli(['listen', server.url, '--json', '--no-reconnect']);
    expect(server.requests).toHaveLength(1);
    expect(result.exitCode, result.stderr).toBe(3);
  });

  it('exits 3 with one clear line when the connection is refused', async () => {
    const result = await runCli(['listen', REFUSED_URL, '--json', '--max-retries', '1', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(3);
    expect(result.stderr).toMatch(/^ssekit: .*refused/im);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('reconnects after a connection reset mid-stream without printing the cut event', async () => {
    const server = await startSseServer([
      { body: ['retry: 1\nid: 1\ndata: a\n\ndata: cut', { pauseMs: 20 }, { destroy: true }] },
      { body: 'data: b\n\n', then: 'hold' },
    ]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', ...SLOW_BACKOFF]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['a', 'b']);
    expect(server.requests[1]?.headers['last-event-id']).toBe('1');
  });

  it('times out a server that accepts but never answers (--connect-timeout) and gives up with exit 3', async () => {
    const server = await startSseServer(() => {
      // Never respond.
    });
    const result = await runCli(['listen', server.url, '--json', '--connect-timeout', '300ms', '--max-retries', '1', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(3);
    expect(server.requests).toHaveLength(2);
    expect(result.stderr).toMatch(/^ssekit: /m);
  });

  it('reconnects after the server ends the stream, using backoff when there is no hint', async () => {
    const server = await startSseServer([{ body: 'data: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', '--retry-initial', '20ms']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests).toHaveLength(2);
    expect(result.stderr).toMatch(/reconnecting in .*\(attempt \d+\)/);
  });
});
