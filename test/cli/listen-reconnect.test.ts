/**
 * What is CLI-specific about `ssekit listen`'s reconnects: the status line on stderr, the flag
 * defaults (500 ms first backoff, 5 retries), and the exit codes: 204 stops with 0, refusals
 * (401/403/404/409, `event: error`) stop with 4, unreachable targets end with 3 after the retries.
 * The reconnect rules themselves (retry:, X-Reconnect-Delay, clamping, backoff and its reset,
 * Last-Event-ID) are asserted from the typed statuses in
 * test/integration/sse-connection-reconnect.test.ts and against the contract suite's list in
 * listen-contract-suite.test.ts.
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

describe('listen reconnect status lines', () => {
  it("prints each reconnect on stderr with its delay and attempt, and keeps stdout for events", async () => {
    const server = await startSseServer([{ body: 'retry: 50\nid: 1\ndata: a\n\n' }, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', ...SLOW_BACKOFF]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => [e['data'], e['id']])).toEqual([
      ['a', '1'],
      ['b', '1'],
    ]);
    expect(result.stderr).toMatch(/^reconnecting in 100 ms \(attempt 1\): server closed the stream$/m);
    expect(result.stdout).not.toMatch(/reconnecting/);
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
  it('starts the backoff at 500 ms by default', async () => {
    const server = await startSseServer({ status: 503, headers: { 'content-type': 'text/plain' } });
    const cli = startCli(['listen', server.url, '--json']);
    const line = await cli.waitForLine(/reconnecting in/);
    const delay = reconnectLines(line)[0]?.delayMs ?? NaN;
    expect(delay).toBeGreaterThan(0);
    expect(delay).toBeLessThanOrEqual(500);
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

  it('times out a server that accepts but never answers (--connect-timeout) and gives up with exit 3', async () => {
    const server = await startSseServer(() => {
      // Never respond.
    });
    const result = await runCli(['listen', server.url, '--json', '--connect-timeout', '300ms', '--max-retries', '1', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(3);
    expect(server.requests).toHaveLength(2);
    expect(result.stderr).toMatch(/^ssekit: /m);
  });
});
