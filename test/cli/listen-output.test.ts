/**
 * What `ssekit listen` prints: the --json record (exact fields), pretty output (compact, JSON
 * indentation, heartbeats), filters (--event, --grep), limits (--max-events, --max-time,
 * --until), several streams, escaping of control characters, usage errors, and `| head -3`
 * ending quietly.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/run-cli.js';
import { jsonResponse, startSseServer } from '../helpers/sse-server.js';

const jsonLines = (stdout: string): Record<string, unknown>[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** C0 controls except TAB and LF, DEL, and C1 controls: none may reach a terminal raw. */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('listen --json records', () => {
  it('has exactly time, stream, event, type, id, data, and json only when the data is JSON', async () => {
    const server = await startSseServer({
      body: 'id: 3\nevent: order.created\ndata: {"a":1}\n\ndata: plain text\n\ndata: 42\n\ndata: null\n\ndata:\n\n',
    });
    const url = `${server.url}?channel=deals`;
    const before = Date.now();
    const result = await runCli(['listen', url, '--json', '--no-reconnect']);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines).toHaveLength(5);
    const [first, plain, number, nul, empty] = lines;
    expect(Object.keys(first ?? {}).sort()).toEqual(['data', 'event', 'id', 'json', 'stream', 'time', 'type']);
    expect(first).toMatchObject({ stream: url, event: 'order.created', type: 'order.created', id: '3', data: '{"a":1}', json: { a: 1 } });
    const time = String(first?.['time']);
    expect(new Date(time).toISOString()).toBe(time);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(before - 1000);
    expect(Object.keys(plain ?? {}).sort()).toEqual(['data', 'event', 'id', 'stream', 'time', 'type']);
    expect(plain).toMatchObject({ event: 'message', type: 'message', id: '3', data: 'plain text' });
    expect(number?.['json']).toBe(42);
    expect(nul).toHaveProperty('json', null);
    expect(empty).toMatchObject({ data: '' });
    expect(empty).not.toHaveProperty('json');
  });

  it('gives the normalized type from JSON data and keeps the dispatched event', async () => {
    const server = await startSseServer({ body: 'data: {"event":"order.created","data":{"order_id":9}}\n\ndata: {"type":"deal.updated"}\n\n' });
    const result = await runCli(['listen', server.url, '--json', '--no-reconnect']);
    expect(jsonLines(result.stdout).map((e) => [e['event'], e['type']])).toEqual([
      ['message', 'order.created'],
      ['message', 'deal.updated'],
    ]);
  });

  it('prints heartbeat events (they are dispatched events), and comments only with --heartbeats, in order', async () => {
    const body = ': ping\n\n:keepalive\nevent: heartbeat\ndata:\n\nevent: ping\ndata: {"timestamp":1}\n\n';
    const result = await runCli(['listen', (await startSseServer({ body })).url, '--json', '--no-reconnect']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => e['event'])).toEqual(['heartbeat', 'ping']);
    const withComments = await runCli(['listen', (await startSseServer({ body })).url, '--json', '--no-reconnect', '--heartbeats']);
    const lines = jsonLines(withComments.stdout);
    expect(lines.map((e) => e['comment'] ?? e['event'])).toEqual(['ping', 'keepalive', 'heartbeat', 'ping']);
    expect(Object.keys(lines[0] ?? {}).sort()).toEqual(['comment', 'stream', 'time']);
  });

  it('writes status lines to stderr, never to stdout', async () => {
    const server = await startSseServer({ body: 'data: a\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1']);
    expect(result.stderr).toMatch(/^connected 200 in [\d.]+ (µs|ms|s)$/m);
    expect(result.stdout).not.toMatch(/connected/);
  });
});

describe('listen filters', () => {
  const mixed = [
    'event: order.created\ndata: 1\n\n',
    'data: {"event":"order.updated"}\n\n',
    'event: ping\ndata: 2\n\n',
    'data: {"event":"task.created"}\n\n',
    'event: orders\ndata: 3\n\n',
    'event: order.done\ndata: 4\n\n',
  ].join('');

  it('--event matches a glob against the raw or the normalized type', async () => {
    const server = await startSseServer({ body: mixed });
    const result = await runCli(['listen', server.url, '--json', '--no-reconnect', '--event', 'order.*']);
    expect(jsonLines(result.stdout).map((e) => e['type'])).toEqual(['order.created', 'order.updated', 'order.done']);
  });

  it('--event is repeatable (any of them)', async () => {
    const server = await startSseServer({ body: mixed });
    const result = await runCli(['listen', server.url, '--json', '--no-reconnect', '--event', 'ping', '--event', 'task.*']);
    expect(jsonLines(result.stdout).map((e) => e['type'])).toEqual(['ping', 'task.created']);
  });

  it('--grep keeps events whose data matches the regex', async () => {
    const server = await startSseServer({ body: 'data: xabbbcx\n\ndata: ac\n\ndata: line1\ndata: abc\n\n' });
    const result = await runCli(['listen', server.url, '--json', '--no-reconnect', '--grep', 'ab+c']);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['xabbbcx', 'line1\nabc']);
  });

  it('--event and --grep together keep events matching both', async () => {
    const server = await startSseServer({ body: 'event: a\ndata: yes\n\nevent: a\ndata: no\n\nevent: b\ndata: yes\n\n' });
    const result = await runCli(['listen', server.url, '--json', '--no-reconnect', '--event', 'a', '--grep', '^yes$']);
    expect(jsonLines(result.stdout).map((e) => [e['event'], e['data']])).toEqual([['a', 'yes']]);
  });

  it('rejects an invalid --grep regex as a usage error (exit 2)', async () => {
    const result = await runCli(['listen', 'http://127.0.0.1:9/events', '--grep', '(']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^ssekit: .*grep/m);
  });
});

describe('listen limits', () => {
  it('--max-events N prints exactly N events and exits 0', async () => {
    const server = await startSseServer({ body: 'data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['1', '2']);
  });

  it('--max-time ends a quiet stream with exit 0 and the events so far', async () => {
    const server = await startSseServer({ body: 'data: only\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-time', '500ms']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['only']);
  });

  it('--until stops after the first event of that type, printing it', async () => {
    const server = await startSseServer({ body: 'data: a\n\nevent: done\ndata: d\n\ndata: b\n\nevent: done\ndata: e\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--until', 'done']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => [e['event'], e['data']])).toEqual([
      ['message', 'a'],
      ['done', 'd'],
    ]);
  });

  it('--until and --max-events count only events that pass the filters (issue 13: --until stopped on an event --grep hid)', async () => {
    const body = 'event: order.created\ndata: store-9\n\nevent: order.created\ndata: store-1 first\n\ndata: store-1 second\n\nevent: order.created\ndata: store-1 third\n\n';
    const until = await runCli(['listen', (await startSseServer({ body, then: 'hold' })).url, '--json', '--grep', 'store-1', '--until', 'order.created']);
    expect(until.exitCode, until.stderr).toBe(0);
    expect(jsonLines(until.stdout).map((e) => e['data'])).toEqual(['store-1 first']);
    const counted = await runCli(['listen', (await startSseServer({ body, then: 'hold' })).url, '--json', '--event', 'order.*', '--max-events', '2']);
    expect(jsonLines(counted.stdout).map((e) => e['data'])).toEqual(['store-9', 'store-1 first']);
  });

  it('closes the connection when a limit ends the run', async () => {
    const server = await startSseServer({ body: 'data: 1\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1']);
    expect(result.exitCode).toBe(0);
    await server.waitForIdle(5_000);
  });
});

describe('listen pretty output', () => {
  const body = 'event: order.created\nid: 5\ndata: {"a":1,"b":[1,2]}\n\ndata: hi there\n\n';

  it('shows type, id and data, with JSON pretty-printed over several lines', async () => {
    const server = await startSseServer({ body });
    const result = await runCli(['listen', server.url, '--no-reconnect']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('order.created');
    expect(result.stdout).toContain('5');
    expect(result.stdout).toContain('hi there');
    const aLine = result.stdout.split('\n').findIndex((l) => /"a": ?1/.test(l));
    const bLine = result.stdout.split('\n').findIndex((l) => /"b"/.test(l));
    expect(aLine).toBeGreaterThanOrEqual(0);
    expect(bLine).toBeGreaterThan(aLine);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
  });

  it('--compact puts each event on one line', async () => {
    const server = await startSseServer({ body });
    const result = await runCli(['listen', server.url, '--no-reconnect', '--compact']);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = result.stdout.split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/order\.created.*"a": ?1.*"b": ?\[1, ?2\]/);
  });

  it('shows comments only with --heartbeats', async () => {
    const stream = ': keepalive-xyz\n\ndata: real\n\n';
    const hidden = await runCli(['listen', (await startSseServer({ body: stream })).url, '--no-reconnect']);
    const shown = await runCli(['listen', (await startSseServer({ body: stream })).url, '--no-reconnect', '--heartbeats']);
    expect(hidden.stdout).toContain('real');
    expect(hidden.stdout).not.toContain('keepalive-xyz');
    expect(shown.stdout).toContain('keepalive-xyz');
    expect(shown.stdout).toContain('real');
  });

  it('hides ping and heartbeat events unless --heartbeats', async () => {
    const stream = 'event: ping\ndata: {"timestamp":1}\n\nevent: heartbeat\ndata:\n\ndata: real\n\n';
    const hidden = await runCli(['listen', (await startSseServer({ body: stream })).url, '--no-reconnect']);
    const shown = await runCli(['listen', (await startSseServer({ body: stream })).url, '--no-reconnect', '--heartbeats']);
    expect(hidden.stdout).toContain('real');
    expect(hidden.stdout).not.toMatch(/ping|heartbeat/);
    expect(shown.stdout).toMatch(/ping/);
    expect(shown.stdout).toMatch(/heartbeat/);
  });

  it('uses no colour escapes with --no-color, whatever the environment says', async () => {
    const server = await startSseServer({ body });
    const result = await runCli(['--no-color', 'listen', server.url, '--no-reconnect'], { env: { FORCE_COLOR: '1' } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toContain('\u001b');
    expect(result.stderr).not.toContain('\u001b');
  });
});

describe('listen escapes control characters from the server', () => {
  const hostile = [
    'event: x\u001b]0;pwned\u0007\n',
    'id: \u001b[2J\n',
    'data: \u001b[31mred\u001b[0m \u009b31m c1 \u007f del\n',
    'data: {"m":"\\u001b[5mblink\\r\\u0000"}\n\n',
    ': \u001b[1mcomment\n\n',
  ].join('');

  it('escapes them in pretty output (type, id, data, JSON strings, comments)', async () => {
    const server = await startSseServer({ body: hostile });
    const result = await runCli(['listen', server.url, '--no-reconnect', '--heartbeats']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('red');
    expect(result.stdout).toContain('pwned');
    expect(result.stdout).not.toMatch(RAW_CONTROL);
  });

  it('escapes them in --compact output', async () => {
    const server = await startSseServer({ body: hostile });
    const result = await runCli(['listen', server.url, '--no-reconnect', '--compact']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
  });

  it('escapes a server-chosen error code before it reaches stderr', async () => {
    const server = await startSseServer(jsonResponse(409, { code: '\u001b[31mstream_limit\u001b]0;x\u0007' }));
    const result = await runCli(['listen', server.url, '--json']);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('stream_limit');
    expect(result.stderr).not.toMatch(RAW_CONTROL);
  });

  it('escapes a server-chosen code in event: error before it reaches stderr', async () => {
    const server = await startSseServer({ body: 'event: error\ndata: {"code":"forbidden\\u001b[2J"}\n\n', then: 'hold' });
    const result = await runCli(['listen', server.url]);
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain('forbidden');
    expect(result.stderr).not.toMatch(RAW_CONTROL);
    expect(result.stdout).not.toMatch(RAW_CONTROL);
  });
});

describe('listen several streams', () => {
  it('tails every URL, with each record naming its stream and status lines tagged', async () => {
    const deals = await startSseServer({ body: 'data: from deals\n\n' });
    const tasks = await startSseServer({ body: 'data: from tasks\n\n' });
    const dealsUrl = `${deals.origin}/api/v1/streams/deals`;
    const tasksUrl = `${tasks.origin}/api/v1/streams/tasks`;
    const result = await runCli(['listen', dealsUrl, tasksUrl, '--json', '--no-reconnect']);
    expect(result.exitCode, result.stderr).toBe(0);
    const byStream = Object.fromEntries(jsonLines(result.stdout).map((e) => [e['stream'], e['data']]));
    expect(byStream).toEqual({ [dealsUrl]: 'from deals', [tasksUrl]: 'from tasks' });
    const connected = result.stderr.split('\n').filter((l) => /connected 200/.test(l));
    expect(connected).toHaveLength(2);
    for (const line of connected) expect(line).toMatch(/^\[[^\]]+\] connected 200/);
  });

  it('a refused stream ends only itself: the others go on, its error prints once, the exit code is the worst', async () => {
    const good = await startSseServer({ body: ['data: ok\n\n', { pauseMs: 300 }, 'data: later\n\n'] });
    const bad = await startSseServer(jsonResponse(409, { code: 'stream_limit' }));
    const broken = await startSseServer({ headers: { 'content-type': 'text/html' }, body: '<html>' });
    const result = await runCli(['listen', `${good.origin}/ok`, `${bad.origin}/denied`, `${broken.origin}/html`, '--json', '--no-reconnect']);
    expect(result.exitCode, result.stderr).toBe(5);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['ok', 'later']);
    expect(result.stderr.match(/stream_limit/g), result.stderr).toHaveLength(1);
    expect(result.stderr).toMatch(/^\[denied\] failed: server answered 409 Conflict \("stream_limit"\)/m);
    expect(result.stderr).toMatch(/^\[html\] failed: expected Content-Type text\/event-stream/m);
    expect(result.stderr).toMatch(/^ssekit: 2 of 3 streams failed/m);
  });

  it('--fail-fast stops every stream at the first failure', async () => {
    const good = await startSseServer({ body: 'data: ok\n\n', then: 'hold' });
    const bad = await startSseServer({ status: 401, headers: { 'content-type': 'text/plain' } });
    const result = await runCli(['listen', `${good.origin}/ok`, `${bad.origin}/denied`, '--json', '--fail-fast']);
    expect(result.exitCode, result.stderr).toBe(4);
    expect(result.stderr).toMatch(/^ssekit: 1 of 2 streams failed \(--fail-fast stopped the others\)/m);
    await good.waitForIdle(5_000);
  });
});

describe('listen usage errors', () => {
  it.each([
    ['an unknown flag', ['listen', 'http://127.0.0.1:9/e', '--bogus']],
    ['no URL', ['listen']],
    ['a URL that does not parse', ['listen', 'not a url']],
    ['a non-HTTP URL', ['listen', 'ftp://127.0.0.1/e']],
    ['a bad --max-time', ['listen', 'http://127.0.0.1:9/e', '--max-time', 'soon']],
    ['a bad --retry-initial', ['listen', 'http://127.0.0.1:9/e', '--retry-initial', 'fast']],
    ['a bad --heartbeat-timeout', ['listen', 'http://127.0.0.1:9/e', '--heartbeat-timeout', '-1s']],
    ['a bad --max-events', ['listen', 'http://127.0.0.1:9/e', '--max-events', 'many']],
    ['a bad --max-retries', ['listen', 'http://127.0.0.1:9/e', '--max-retries', '-3']],
    ['a bad --ttl', ['listen', 'http://127.0.0.1:9/e', '--jwt-secret', 's', '--ttl', 'forever']],
    ['--data with --method GET', ['listen', 'http://127.0.0.1:9/e', '--method', 'GET', '--data', '{}']],
    ['--content-type without --data', ['listen', 'http://127.0.0.1:9/e', '--content-type', 'text/plain']],
    ['a --method that is not a token', ['listen', 'http://127.0.0.1:9/e', '--method', 'PO ST']],
    ['a --data file that does not exist', ['listen', 'http://127.0.0.1:9/e', '--data', '@/nonexistent/body.json']],
  ])('exits 2 with one ssekit: line for %s', async (_label, args) => {
    const result = await runCli(args);
    expect(result.exitCode, result.stderr).toBe(2);
    const errorLines = result.stderr.split('\n').filter((l) => l.startsWith('ssekit: '));
    expect(errorLines, result.stderr).toHaveLength(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).toBe('');
  });

  it('accepts the global flags before or after the subcommand', async () => {
    const server = await startSseServer({ body: 'data: x\n\n', then: 'hold' });
    const before = await runCli(['--no-color', '--debug', 'listen', server.url, '--json', '--max-events', '1']);
    const after = await runCli(['listen', server.url, '--json', '--max-events', '1', '--no-color', '--debug']);
    expect(before.exitCode, before.stderr).toBe(0);
    expect(after.exitCode, after.stderr).toBe(0);
  });

  it('prints a stack trace only with --debug', async () => {
    const server = await startSseServer({ status: 403, headers: { 'content-type': 'text/plain' } });
    const plain = await runCli(['listen', server.url, '--json']);
    const debug = await runCli(['listen', server.url, '--json', '--debug']);
    expect(plain.stderr).not.toMatch(/^\s+at /m);
    expect(debug.stderr).toMatch(/^\s+at /m);
    expect(debug.exitCode).toBe(4);
  });
});

describe('listen in a pipe', () => {
  it('ends quietly with exit 0 when the reader goes away (| head -3)', async () => {
    let body = '';
    for (let i = 0; i < 200; i += 1) body += `data: ${i}\n\n`;
    const server = await startSseServer({ body: [body, { pauseMs: 50 }, body, { pauseMs: 50 }, body], then: 'hold' });
    const dir = mkdtempSync(join(tmpdir(), 'ssekit-pipe-'));
    try {
      const errFile = join(dir, 'err');
      const codeFile = join(dir, 'code');
      const script = `{ node "$BIN" listen "$URL" --json 2>"$ERR"; echo $? > "$CODE"; } | head -3`;
      const r = await execa('sh', ['-c', script], { env: { BIN, URL: server.url, ERR: errFile, CODE: codeFile, NO_COLOR: '1' }, reject: false, timeout: 15_000 });
      expect(r.exitCode).toBe(0);
      expect(jsonLines(String(r.stdout)).map((e) => e['data'])).toEqual(['0', '1', '2']);
      const stderr = readFileSync(errFile, 'utf8');
      expect(stderr).not.toMatch(/EPIPE|Error|^\s+at /m);
      expect(readFileSync(codeFile, 'utf8').trim()).toBe('0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
