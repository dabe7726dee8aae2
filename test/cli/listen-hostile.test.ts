/**
 * `ssekit listen` against servers that misbehave: a 100 MB line without a newline (bounded
 * memory, exit 5, a clear message), events over --max-event-size, the wrong content type,
 * garbage bytes, invalid UTF-8, duplicate ids, floods. None of it may crash the CLI (exit 1)
 * or print a stack trace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/run-cli.js';
import { hugeLine, startSseServer } from '../helpers/sse-server.js';

const jsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const MB = 1024 * 1024;

/**
 * Runs the CLI and measures its peak resident set size (kB): `/usr/bin/time -v` when present,
 * else by sampling VmHWM in /proc while it runs.
 */
async function runMeasured(args: readonly string[]): Promise<{ exitCode: number; stdout: string; stderr: string; maxRssKb: number }> {
  if (existsSync('/usr/bin/time')) {
    const r = await execa('/usr/bin/time', ['-v', 'node', BIN, ...args], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', timeout: 60_000 });
    const stderr = String(r.stderr);
    const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
    const own = stderr
      .split('\n')
      .filter((l) => !l.startsWith('\t') && !l.startsWith('Command '))
      .join('\n');
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: own, maxRssKb: kb };
  }
  const child = execa('node', [BIN, ...args], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', timeout: 60_000 });
  let maxRssKb = 0;
  const timer = setInterval(() => {
    try {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      if (kb > maxRssKb) maxRssKb = kb;
    } catch {
      // Exited between samples.
    }
  }, 10);
  const r = await child;
  clearInterval(timer);
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), maxRssKb };
}

describe('listen with huge lines and events', () => {
  it('ends a 100 MB line without newline with exit 5, a clear message and bounded memory', async () => {
    const { handler, stats } = hugeLine(100 * MB);
    const server = await startSseServer(handler);
    const result = await runMeasured(['listen', server.url, '--json']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/^ssekit: .*(limit|too large|max-event-size|exceed)/im);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).toBe('');
    // A protocol violation is not retried.
    expect(server.requests).toHaveLength(1);
    // The CLI hung up long before the 100 MB were sent, and never held them.
    expect(stats.isFinished).toBe(false);
    expect(stats.bytesWritten).toBeLessThan(50 * MB);
    expect(result.maxRssKb).toBeGreaterThan(0);
    expect(result.maxRssKb).toBeLessThan(200 * 1024);
  });

  it('honours --max-event-size for a line and names the limit', async () => {
    const { handler } = hugeLine(1 * MB);
    const server = await startSseServer(handler);
    const result = await runCli(['listen', server.url, '--json', '--max-event-size', '64KiB']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(result.stderr).toMatch(/65536|64 ?KiB/);
  });

  it('ends an event whose many data lines add up to more than --max-event-size with exit 5', async () => {
    const line = `data: ${'x'.repeat(1000)}\n`;
    const server = await startSseServer({ body: [line.repeat(100), '\n'], then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-event-size', '64KiB']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(result.stdout).toBe('');
  });

  it('delivers an event just under --max-event-size', async () => {
    const data = 'y'.repeat(60 * 1024);
    const server = await startSseServer({ body: `data: ${data}\n\n`, then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1', '--max-event-size', '64KiB']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)[0]?.['data']).toBe(data);
  });

  it('rejects an unreadable --max-event-size as a usage error (exit 2)', async () => {
    const result = await runCli(['listen', 'http://127.0.0.1:9/events', '--max-event-size', 'lots']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^ssekit: .*max-event-size/m);
  });
});

describe('listen with the wrong content type', () => {
  it.each([
    ['text/html; charset=utf-8', '<html>hello</html>'],
    ['application/json', '{"events":[]}'],
    ['text/plain', 'data: looks like sse\n\n'],
  ])('exits 5 and names the content type %s', async (type, body) => {
    const server = await startSseServer({ headers: { 'content-type': type }, body });
    const result = await runCli(['listen', server.url, '--json', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(result.stderr).toContain(type.split(';')[0]);
    expect(result.stderr).toMatch(/^ssekit: /m);
    expect(result.stdout).toBe('');
    expect(server.requests).toHaveLength(1);
  });

  it('exits 5 when a 200 has no content type at all', async () => {
    const server = await startSseServer({ headers: { 'content-type': '' }, body: 'data: x\n\n' });
    const result = await runCli(['listen', server.url, '--json', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(result.stdout).toBe('');
  });

  it('accepts text/event-stream with parameters and in any case', async () => {
    const server = await startSseServer({ headers: { 'content-type': 'Text/Event-Stream ;charset=UTF-8' }, body: 'data: ok\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)[0]?.['data']).toBe('ok');
  });
});

describe('listen with garbage and broken encodings', () => {
  it('survives 64 KiB of random bytes and still reads the event after them', async () => {
    let seed = 12345;
    const garbage = Buffer.alloc(64 * 1024);
    for (let i = 0; i < garbage.length; i += 1) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      garbage[i] = seed >>> 16;
    }
    const server = await startSseServer({ body: [garbage, '\n\ndata: ok\n\n'] });
    const result = await runCli(['listen', server.url, '--json', '--no-reconnect']);
    expect(result.stderr).not.toMatch(/internal error|^\s+at /m);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines.at(-1)?.['data']).toBe('ok');
  });

  it('replaces invalid UTF-8 in type, id and data with U+FFFD', async () => {
    const body = Buffer.concat([
      Buffer.from('event: t'),
      Buffer.from([0xff]),
      Buffer.from('\nid: i'),
      Buffer.from([0xc3]),
      Buffer.from('\ndata: d'),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from(' end\n\n'),
    ]);
    const server = await startSseServer({ body, then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)[0]).toMatchObject({ event: 't\uFFFD', id: 'i\uFFFD', data: 'd\uFFFD\uFFFD\uFFFD end' });
  });

  it('prints invalid UTF-8 in pretty mode as replacement characters without crashing', async () => {
    const server = await startSseServer({ body: Buffer.concat([Buffer.from('data: caf'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('\n\n')]), then: 'hold' });
    const result = await runCli(['listen', server.url, '--max-events', '1']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('caf\uFFFD(\uFFFD');
  });

  it('escapes NUL and control characters in --json output', async () => {
    const server = await startSseServer({ body: 'data: a\u0000b\u001bc\u0007d\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(jsonLines(result.stdout)[0]?.['data']).toBe('a\u0000b\u001bc\u0007d');
  });
});

describe('listen with odd but legal streams', () => {
  it('prints both events when the server repeats an id', async () => {
    const server = await startSseServer({ body: 'id: 1\ndata: a\n\nid: 1\ndata: a\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => [e['id'], e['data']])).toEqual([
      ['1', 'a'],
      ['1', 'a'],
    ]);
  });

  it('keeps up with 20 000 events sent at once, in order', async () => {
    let body = '';
    for (let i = 0; i < 20_000; i += 1) body += `id: ${i}\ndata: {"n":${i}}\n\n`;
    const server = await startSseServer({ body, then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '20000'], { timeoutMs: 30_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines).toHaveLength(20_000);
    expect(lines.every((l, i) => l['id'] === String(i) && (l['json'] as { n: number }).n === i)).toBe(true);
  });

  it('treats a 200 with a content-length body as a stream that ends', async () => {
    const body = 'data: fixed\n\n';
    const server = await startSseServer({ headers: { 'content-type': 'text/event-stream', 'content-length': Buffer.byteLength(body) }, body });
    const result = await runCli(['listen', server.url, '--json', '--no-reconnect']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['fixed']);
  });
});
