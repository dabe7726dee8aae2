/**
 * Output safety of `ssekit listen` (issue 13 point 10, 11): stdout backpressure pauses the
 * response bodies, so a reader that sleeps keeps memory bounded (the goal, 1 M events
 * into a reader sleeping 8 s under 150 MB, is scaled down here to 150 000 events and 2.5 s: the
 * version without backpressure peaked at 331 MB on 200 000 / 3 s); a write error on stdout other
 * than EPIPE exits 2 with one line; --json escapes C1 controls and U+2028/2029; server text in
 * error lines is escaped; --raw shows the bytes as received, escaped for the terminal.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, runCli, startCli } from '../helpers/run-cli.js';
import { startSseServer, writeChunk } from '../helpers/sse-server.js';

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const MB = 1024 * 1024;

/** A stream of `count` events written as fast as the client takes them. */
const manyEvents = (count: number) =>
  startSseServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (let i = 0; i < count; i += 1000) {
      let chunk = '';
      for (let j = i; j < Math.min(count, i + 1000); j++) chunk += `id: ${j}\ndata: {"n":${j},"event":"order.created","pickup_address":"Main Street 1"}\n\n`;
      if (!(await writeChunk(res, chunk))) return;
    }
  });

describe('listen with a slow reader', () => {
  it('keeps memory bounded by pausing the streams while stdout is full, and loses nothing', async () => {
    const count = 150_000;
    const server = await manyEvents(count);
    const child = spawn('node', [BIN, 'listen', server.url, '--json', '--max-events', String(count)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let peakKb = 0;
    const sampler = setInterval(() => {
      try {
        const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        peakKb = Math.max(peakKb, kb);
      } catch {
        // Exited between samples.
      }
    }, 20);
    // The reader sleeps: nothing is read from the pipe for 2.5 s.
    child.stdout.pause();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    let lines = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      for (const byte of chunk) if (byte === 0x0a) lines += 1;
    });
    child.stdout.resume();
    const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearInterval(sampler);
    expect(exitCode).toBe(0);
    expect(lines).toBe(count);
    expect(peakKb).toBeGreaterThan(0);
    expect(peakKb * 1024).toBeLessThan(150 * MB);
  }, 60_000);
});

describe('listen when stdout fails', () => {
  it('exits 2 with one line when stdout cannot be written (> /dev/full)', async () => {
    const server = await startSseServer({ body: 'data: a\n\ndata: b\n\n', then: 'hold' });
    const r = await execa('sh', ['-c', 'node "$BIN" listen "$URL" --json --max-time 5s > /dev/full'], { env: { BIN, URL: server.url, NO_COLOR: '1' }, reject: false, timeout: 15_000 });
    expect(r.exitCode, String(r.stderr)).toBe(2);
    const errorLines = String(r.stderr)
      .split('\n')
      .filter((l) => l.startsWith('ssekit: '));
    expect(errorLines).toEqual(['ssekit: cannot write to stdout: ENOSPC']);
    expect(String(r.stderr)).not.toMatch(/^\s+at /m);
  });
});

describe('listen escapes what the server sent', () => {
  it('--json writes DEL, C1 controls and U+2028/2029 as \\u escapes, the same JSON value', async () => {
    const data = 'a\u007fb\u0085c\u009bd\u2028e\u2029f';
    const server = await startSseServer({ body: `event: t\u009b\ndata: ${data}\n\n: c\u0085omment\n\n`, then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--heartbeats', '--max-time', '1s']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
    const [event, comment] = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(event).toMatchObject({ event: 't\u009b', data });
    expect(comment).toMatchObject({ comment: 'c\u0085omment' });
  });

  it('escapes a Content-Type and an error body quoted in the error line', async () => {
    const html = await startSseServer({ headers: { 'content-type': 'text/html\u009b2J' }, body: '<html>' });
    const wrongType = await runCli(['listen', html.url, '--json']);
    expect(wrongType.exitCode).toBe(5);
    expect(wrongType.stderr).toMatch(/^ssekit: expected Content-Type text\/event-stream, got "text\/html.*\\u009b2J"/m);
    expect(wrongType.stderr).not.toMatch(RAW_CONTROL);
    const body = await startSseServer({ status: 422, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ detail: [{ msg: 'bad \u001b]52;c;AAAA\u0007 prompt\u009b' }] }) });
    const refused = await runCli(['listen', body.url, '--json']);
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr).toMatch(/^ssekit: server answered 422 Unprocessable Content \("bad \\u001b\]52;c;AAAA\\u0007 prompt\\u009b"\)/m);
    expect(refused.stderr.replace(/\n/g, '')).not.toMatch(RAW_CONTROL);
  });
});

describe('listen --raw', () => {
  it("prints the stream's bytes as received, escaped for the terminal, with reconnects underneath", async () => {
    const first = 'retry: 1\r\nid: 1\r\n: hi\r\ndata: \u001b[2Jclear\rover\r\n\r\n';
    const server = await startSseServer([{ body: first }, { body: 'data: second\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--raw', '--max-events', '2']);
    expect(result.exitCode, result.stderr).toBe(0);
    // CRLF kept; ESC and the lone CR (which would let the server overwrite the line) escaped.
    // (execa strips the last newline of stdout.)
    expect(result.stdout).toBe('retry: 1\r\nid: 1\r\n: hi\r\ndata: \\x1b[2Jclear\\x0dover\r\n\r\ndata: second\n');
    expect(server.requests[1]?.headers['last-event-id']).toBe('1');
    expect(result.stderr).toMatch(/^reconnecting in/m);
  });

  it('decodes UTF-8 split across chunks', async () => {
    const bytes = Buffer.from('data: 世界\n\n');
    const server = await startSseServer({ body: [bytes.subarray(0, 7), { pauseMs: 30 }, bytes.subarray(7)], then: 'hold' });
    const cli = startCli(['listen', server.url, '--raw']);
    await cli.waitForLine(/世界/);
  });

  it.each([
    ['--json', ['--json']],
    ['--compact', ['--compact']],
    ['several URLs', ['http://127.0.0.1:9/b']],
  ])('is a usage error with %s', async (_label, extra) => {
    const result = await runCli(['listen', 'http://127.0.0.1:9/a', '--raw', ...extra]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^ssekit: --raw/m);
  });
});
