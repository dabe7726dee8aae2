/**
 * The stall watchdog (--heartbeat-timeout: no byte at all in that time → report the stall on
 * stderr and reconnect; any byte counts as life) and Ctrl-C (SIGINT ends the process cleanly
 * with exit 130, the events printed so far complete on stdout).
 */
import { describe, expect, it, vi } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js';
import { silence, startSseServer, writeChunk } from '../helpers/sse-server.js';

const jsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Sends SIGINT and waits for the exit, failing clearly if the CLI does not stop in time. */
async function interrupt(cli: CliProcess, timeoutMs = 5_000): Promise<{ exitCode: number | undefined; signal: string | undefined; stdout: string; stderr: string }> {
  cli.child.kill('SIGINT');
  const timeout = new Promise<never>((_resolve, reject) =>
    setTimeout(() => reject(new Error(`no exit ${timeoutMs} ms after SIGINT\n${JSON.stringify(cli.output())}`)), timeoutMs),
  );
  const r = await Promise.race([cli.child, timeout]);
  return { exitCode: r.exitCode, signal: r.signal, ...cli.output() };
}

describe('listen stall watchdog', () => {
  it('reports a stall on stderr and reconnects with the last id when the server goes silent', async () => {
    const server = await startSseServer([{ body: 'id: 1\ndata: a\n\n', then: 'hold' }, { body: 'data: b\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--heartbeat-timeout', '300ms', '--retry-initial', '20ms', '--max-events', '2']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^stalled: no data for [\d.]+ (ms|s)$/m);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.headers['last-event-id']).toBe('1');
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['a', 'b']);
  });

  it('detects a stream that sends its headers and then not a single byte', async () => {
    const server = await startSseServer([silence, { body: 'data: finally\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--heartbeat-timeout', '300ms', '--retry-initial', '20ms', '--max-events', '1']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/stalled: no data for/);
    expect(server.requests).toHaveLength(2);
  });

  it('closes the stalled connection before reconnecting', async () => {
    const server = await startSseServer([silence, { body: 'data: b\n\n', then: 'hold' }]);
    const cli = startCli(['listen', server.url, '--json', '--heartbeat-timeout', '300ms', '--retry-initial', '20ms']);
    await cli.waitForLine(/"data":"b"/);
    // Only the second response is still open: the stalled one was dropped, not leaked.
    await vi.waitFor(() => expect(server.openResponses()).toBe(1), { timeout: 3_000 });
  });

  it.each([
    ['comments', ': ping\n'],
    ['heartbeat events with empty data', 'event: heartbeat\ndata:\n\n'],
    ['single bytes of a line that never ends', 'x'],
  ])('counts %s as life', async (_label, beat) => {
    const server = await startSseServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      await writeChunk(res, 'data: start\n\n');
      while (!res.destroyed && !res.writableEnded) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (!(await writeChunk(res, beat))) return;
      }
    });
    const result = await runCli(['listen', server.url, '--json', '--heartbeat-timeout', '600ms', '--max-time', '1800ms']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/stalled/);
    expect(server.requests).toHaveLength(1);
  });

  it('does not watch for stalls unless asked', async () => {
    const server = await startSseServer(silence);
    const result = await runCli(['listen', server.url, '--json', '--max-time', '800ms']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/stalled/);
    expect(server.requests).toHaveLength(1);
  });
});

describe('listen Ctrl-C', () => {
  it('exits 130 on SIGINT with the events printed so far complete on stdout', async () => {
    const server = await startSseServer({ body: 'id: 1\ndata: first\n\nid: 2\ndata: second\n\n', then: 'hold' });
    const cli = startCli(['listen', server.url, '--json']);
    await cli.waitForLine(/"data":"second"/);
    const r = await interrupt(cli);
    expect(r.signal, 'the process must handle SIGINT, not die of it').toBeUndefined();
    expect(r.exitCode, r.stderr).toBe(130);
    expect(jsonLines(r.stdout).map((e) => e['data'])).toEqual(['first', 'second']);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    await server.waitForIdle(5_000);
  });

  it('exits 130 on SIGINT while waiting to reconnect', async () => {
    const server = await startSseServer({ body: 'retry: 600000\ndata: a\n\n' });
    const cli = startCli(['listen', server.url, '--json']);
    await cli.waitForLine(/reconnecting in 10 m/);
    const r = await interrupt(cli);
    expect(r.signal).toBeUndefined();
    expect(r.exitCode, r.stderr).toBe(130);
    expect(jsonLines(r.stdout).map((e) => e['data'])).toEqual(['a']);
  });

  it('exits 130 on SIGINT in pretty mode, keeping the printed events', async () => {
    const server = await startSseServer({ body: 'event: order.created\ndata: {"n":1}\n\n', then: 'hold' });
    const cli = startCli(['listen', server.url]);
    await cli.waitForLine(/order\.created/);
    const r = await interrupt(cli);
    expect(r.signal).toBeUndefined();
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stdout).toContain('order.created');
  });

  it('exits 130 on SIGINT while the server has not answered yet', async () => {
    const server = await startSseServer(() => {
      // Never answer.
    });
    const cli = startCli(['listen', server.url, '--json']);
    await server.waitForRequests(1);
    const r = await interrupt(cli);
    expect(r.signal).toBeUndefined();
    expect(r.exitCode, r.stderr).toBe(130);
    expect(r.stdout).toBe('');
  });
});
