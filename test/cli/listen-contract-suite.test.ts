/**
 * The launchdarkly/sse-contract-tests suite's test list (its `ssetests/*.go`: basic parsing,
 * comments, line feeds, BOM, HTTP behaviour, reconnection, payload sizes), one `it` per test of
 * theirs, run through the built `ssekit listen` against the scripted test server. Their harness
 * drives a client through a test service; here the stream is a script and the client is the CLI.
 *
 * The parsing groups run as one `listen` per group with one URL per test (`/case/<n>`): listen
 * tails them all at once and every NDJSON record names its stream, so each `it` reads its own
 * stream's events. HTTP behaviour and reconnection need their own server per test.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/run-cli.js';
import { oneByteAtATime, playScript, redirect, startSseServer, type ScriptStep, type SseServer } from '../helpers/sse-server.js';

interface Expected {
  readonly data: string;
  readonly type?: string;
  readonly id?: string;
}
interface Case {
  readonly name: string;
  readonly body: readonly ScriptStep[];
  readonly expected: readonly Expected[];
  /** Comments expected (in --json --heartbeats), in order with the events. */
  readonly comments?: readonly string[];
}

type JsonRecord = Record<string, unknown>;
const jsonLines = (stdout: string): JsonRecord[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonRecord);

const BOM = '\uFEFF';
const inChunks = (text: string, size: number, pauseMs = 10): ScriptStep[] => {
  const bytes = Buffer.from(text, 'utf8');
  const steps: ScriptStep[] = [];
  for (let i = 0; i < bytes.length; i += size) steps.push(bytes.subarray(i, i + size), { pauseMs });
  return steps;
};

/** Runs one `listen --json --heartbeats` over every case of a group; records by case index. */
async function runGroup(cases: readonly Case[], extraArgs: readonly string[] = []): Promise<Map<number, JsonRecord[]>> {
  const server = await startSseServer(async (req, res) => {
    const index = Number(/\/case\/(\d+)/.exec(req.url ?? '')?.[1] ?? -1);
    await playScript(res, { body: cases[index]?.body ?? [] });
  });
  const urls = cases.map((_c, i) => `${server.origin}/case/${i}`);
  const result = await runCli(['listen', ...urls, '--json', '--heartbeats', '--no-reconnect', ...extraArgs], { timeoutMs: 60_000 });
  expect(result.exitCode, result.stderr).toBe(0);
  const byCase = new Map<number, JsonRecord[]>();
  for (const record of jsonLines(result.stdout)) {
    const index = Number(/\/case\/(\d+)$/.exec(String(record['stream']))?.[1]);
    byCase.set(index, [...(byCase.get(index) ?? []), record]);
  }
  return byCase;
}

/** Declares one `it` per case over the group's single run. */
function describeGroup(title: string, cases: readonly Case[], extraArgs: readonly string[] = []): void {
  describe(title, () => {
    let byCase = new Map<number, JsonRecord[]>();
    beforeAll(async () => {
      byCase = await runGroup(cases, extraArgs);
    }, 60_000);
    cases.forEach((c, index) => {
      it(c.name, () => {
        const records = byCase.get(index) ?? [];
        const events = records.filter((r) => 'event' in r).map((r) => ({ data: r['data'], type: r['event'], id: r['id'] }));
        expect(events).toEqual(c.expected.map((e) => ({ data: e.data, type: e.type ?? 'message', id: e.id ?? '' })));
        if (c.comments !== undefined) {
          const order = records.map((r) => ('comment' in r ? { comment: r['comment'] } : { data: r['data'] }));
          expect(order.filter((r) => 'comment' in r)).toEqual(c.comments.map((comment) => ({ comment })));
        }
      });
    });
  });
}

const one = (text: string): ScriptStep[] => [text];

describeGroup('basic parsing', [
  { name: 'one-line message in one chunk', body: one('data: Hello\n\n'), expected: [{ data: 'Hello' }] },
  { name: 'one-line message in two chunks', body: ['data: Hel', { pauseMs: 20 }, 'lo\n\n'], expected: [{ data: 'Hello' }] },
  { name: 'two one-line messages in one chunk', body: one('data: Hello\n\ndata: World\n\n'), expected: [{ data: 'Hello' }, { data: 'World' }] },
  { name: 'one two-line message in one chunk', body: one('data: Hello\ndata:World\n\n'), expected: [{ data: 'Hello\nWorld' }] },
  { name: 'empty data', body: one('data:\n\n'), expected: [{ data: '' }] },
  { name: 'event with specific type', body: one('event: greeting\ndata: Hello\n\n'), expected: [{ type: 'greeting', data: 'Hello' }] },
  { name: 'default event type', body: one('data: Hello\n\n'), expected: [{ type: 'message', data: 'Hello' }] },
  { name: 'event with ID', body: one('id: abc\ndata: Hello\n\n'), expected: [{ id: 'abc', data: 'Hello' }] },
  { name: 'event with type and ID', body: one('event: greeting\nid: abc\ndata: Hello\n\n'), expected: [{ type: 'greeting', id: 'abc', data: 'Hello' }] },
  { name: 'ID field is ignored if it contains a null', body: one('id: a\u0000bc\ndata: Hello\n\n'), expected: [{ data: 'Hello' }] },
  { name: 'last ID persists if not overridden by later event', body: ['id: abc\ndata: first\n\n', { pauseMs: 10 }, 'data: second\n\n'], expected: [{ id: 'abc', data: 'first' }, { id: 'abc', data: 'second' }] },
  { name: 'last ID can be overridden by an empty value', body: ['id: abc\ndata: first\n\n', { pauseMs: 10 }, 'id: \ndata: second\n\n'], expected: [{ id: 'abc', data: 'first' }, { data: 'second' }] },
  { name: 'fields in reverse order', body: one('data: Hello\nid: abc\nevent: greeting\n\n'), expected: [{ type: 'greeting', id: 'abc', data: 'Hello' }] },
  { name: 'unknown field is ignored', body: one('event: greeting\ncolor: blue\ndata: Hello\n\n'), expected: [{ type: 'greeting', data: 'Hello' }] },
  { name: 'fields without leading space', body: one('event:greeting\ndata:Hello\n\n'), expected: [{ type: 'greeting', data: 'Hello' }] },
  { name: 'fields with extra leading space', body: one('event:  greeting\ndata:  Hello\n\n'), expected: [{ type: ' greeting', data: ' Hello' }] },
  { name: 'field with no colon', body: one('data\n\ndata\ndata\n\n'), expected: [{ data: '' }, { data: '\n' }] },
  { name: 'multi-byte characters', body: one('data: €豆腐\n\n'), expected: [{ data: '€豆腐' }] },
  {
    name: 'many messages in rapid succession',
    body: one(Array.from({ length: 100 }, (_v, i) => `data: message ${i}\n\n`).join('')),
    expected: Array.from({ length: 100 }, (_v, i) => ({ data: `message ${i}` })),
  },
  { name: 'multi-byte characters sent in single-byte pieces', body: oneByteAtATime('data: €豆腐\n\n', 20), expected: [{ data: '€豆腐' }] },
]);

describeGroup('comments', [
  { name: 'single comment', body: one(':Hello\n'), expected: [], comments: ['Hello'] },
  { name: 'two comments in a row', body: [':Hello\n', { pauseMs: 10 }, ':World\n'], expected: [], comments: ['Hello', 'World'] },
  { name: 'comment before event', body: [':Hello\n', { pauseMs: 10 }, 'data: Hello\n\n'], expected: [{ data: 'Hello' }], comments: ['Hello'] },
  { name: 'comment after event', body: ['data: Hello\n\n', { pauseMs: 10 }, ':Hello\n'], expected: [{ data: 'Hello' }], comments: ['Hello'] },
]);

/** Their line-feed group: each input with each terminator, in one chunk, 1- and 2-character chunks. */
function linefeedCases(): Case[] {
  const cases: Case[] = [];
  for (const [label, t] of [['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']] as const) {
    const inputs: [string, string, Expected[]][] = [
      ['one-line event', `data: event 1${t}${t}`, [{ data: 'event 1' }]],
      ['one-line event + two-line event', `data: event 1${t}${t}data: event 2 line 1${t}data: event 2 line 2${t}${t}`, [{ data: 'event 1' }, { data: 'event 2 line 1\nevent 2 line 2' }]],
      ['3-line event with empty line at beginning', `data:${t}data: line2${t}data: line3${t}${t}`, [{ data: '\nline2\nline3' }]],
      ['3-line event with empty line in middle', `data: line1${t}data:${t}data: line3${t}${t}`, [{ data: 'line1\n\nline3' }]],
      ['ignores 1 extra empty line', `data: event 1${t}${t}${t}data: event 2${t}${t}`, [{ data: 'event 1' }, { data: 'event 2' }]],
      ['ignores 2 extra empty lines', `data: event 1${t}${t}${t}${t}data: event 2${t}${t}`, [{ data: 'event 1' }, { data: 'event 2' }]],
    ];
    for (const [name, input, expected] of inputs) {
      cases.push({ name: `${label} separator: ${name}: one chunk`, body: [input], expected });
      cases.push({ name: `${label} separator: ${name}: 1-character chunks`, body: inChunks(input, 1), expected });
      cases.push({ name: `${label} separator: ${name}: 2-character chunks`, body: inChunks(input, 2), expected });
    }
  }
  cases.push({
    name: 'CRLF where CR is end of 1 chunk',
    body: ['data: Hello\r', { pauseMs: 10 }, '\ndata: World\r', { pauseMs: 10 }, '\n\r\ndata: OK\r', { pauseMs: 10 }, '\n', { pauseMs: 10 }, '\r', { pauseMs: 10 }, '\n'],
    expected: [{ data: 'Hello\nWorld' }, { data: 'OK' }],
  });
  return cases;
}
describeGroup('linefeeds', linefeedCases());

describeGroup('BOM', [
  { name: 'BOM at start of stream is stripped', body: one(`${BOM}data: Hello\n\n`), expected: [{ data: 'Hello' }] },
  { name: 'BOM stripped before first event with type and ID', body: one(`${BOM}event: greeting\nid: abc\ndata: Hello\n\n`), expected: [{ type: 'greeting', id: 'abc', data: 'Hello' }] },
  { name: 'BOM stripped with multiple messages', body: one(`${BOM}data: First\n\ndata: Second\n\n`), expected: [{ data: 'First' }, { data: 'Second' }] },
  { name: 'BOM only stripped at stream start, not from later data', body: ['data: First\n\n', { pauseMs: 10 }, `data: ${BOM}Second\n\n`], expected: [{ data: 'First' }, { data: `${BOM}Second` }] },
  { name: 'BOM split across first two chunks', body: [Buffer.from([0xef, 0xbb]), { pauseMs: 20 }, Buffer.concat([Buffer.from([0xbf]), Buffer.from('data: Hello\n\n')])], expected: [{ data: 'Hello' }] },
  { name: 'BOM split byte by byte across chunks', body: [Buffer.from([0xef]), { pauseMs: 20 }, Buffer.from([0xbb]), { pauseMs: 20 }, Buffer.from([0xbf]), { pauseMs: 20 }, 'data: Hello\n\n'], expected: [{ data: 'Hello' }] },
  { name: 'only first BOM at start is stripped', body: one(`${BOM}data: ${BOM}Hello\n\n`), expected: [{ data: `${BOM}Hello` }] },
  { name: 'no BOM - baseline test', body: one('data: Hello\n\n'), expected: [{ data: 'Hello' }] },
  { name: 'BOM with multi-line data', body: one(`${BOM}data: Line1\ndata: Line2\n\n`), expected: [{ data: 'Line1\nLine2' }] },
  { name: 'BOM with comment at start', body: one(`${BOM}:comment\ndata: Hello\n\n`), expected: [{ data: 'Hello' }], comments: ['comment'] },
  { name: 'BOM does not affect empty data field', body: one(`${BOM}data:\n\n`), expected: [{ data: '' }] },
]);

const PAYLOAD_SIZES = [1, 128, 512, 1023, 1024, 1025, 2048, 3999, 4094, 4096, 4098, 6144, 8189, 8192, 8195, 12288, 16384, 32768, 65536, 262144, 1048576];
describeGroup(
  'payload sizes',
  PAYLOAD_SIZES.map((size) => ({ name: `payload of ${size} bytes is delivered promptly`, body: [`data: ${'x'.repeat(size)}\n\n`], expected: [{ data: 'x'.repeat(size) }] })),
  // 1 MiB of data is over the default cap by the one byte of its line end.
  ['--max-event-size', '2MiB'],
);

describe('HTTP behavior', () => {
  const hello = { body: 'data: hello\n\n', then: 'hold' as const };
  const firstEvent = (args: readonly string[]) => runCli(['listen', ...args, '--json', '--max-events', '1']);

  it('default method and headers', async () => {
    const server = await startSseServer(hello);
    const result = await firstEvent([server.url]);
    expect(result.exitCode, result.stderr).toBe(0);
    const [request] = server.requests;
    expect(request?.method).toBe('GET');
    expect(request?.headers.accept).toBe('text/event-stream');
    expect(request?.headers['cache-control']).toBe('no-cache');
    expect(request?.headers).not.toHaveProperty('last-event-id');
  });

  it('204 halts re-connection attempts', async () => {
    const server = await startSseServer({ status: 204 });
    const result = await runCli(['listen', server.url, '--json', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  for (const status of [301, 307]) {
    it(`client follows ${status} redirect`, async () => {
      const target = await startSseServer(hello);
      const origin = await startSseServer(redirect(target.url, status));
      const result = await firstEvent([origin.url]);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(jsonLines(result.stdout)[0]?.['data']).toBe('hello');
    });
    for (const action of ['empty', 'missing'] as const) {
      it(`client handles ${action} Location header with ${status} status`, async () => {
        const server = await startSseServer({ status, headers: action === 'empty' ? { location: '', 'content-type': 'text/plain' } : { 'content-type': 'text/plain' } });
        const result = await runCli(['listen', server.url, '--json', '--retry-initial', '10ms']);
        // Neither a loop nor silence: one request, one clear line, exit 5.
        expect(result.exitCode, result.stderr).toBe(5);
        expect(server.requests).toHaveLength(1);
        expect(result.stderr).toMatch(new RegExp(`^ssekit: server redirected ${status} (without a|with an empty) Location header`, 'm'));
      });
    }
  }

  it('custom headers', async () => {
    const server = await startSseServer(hello);
    const result = await firstEvent([server.url, '-H', 'header-name-1: value-1', '-H', 'header-name-2: value-2']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests[0]?.headers['header-name-1']).toBe('value-1');
    expect(server.requests[0]?.headers['header-name-2']).toBe('value-2');
  });

  for (const method of ['POST', 'REPORT']) {
    it(`${method} request`, async () => {
      const server = await startSseServer(hello);
      const jsonBody = '{"hello": "world"}';
      const result = await firstEvent([server.url, '--method', method, '--data', jsonBody, '-H', 'content-type: application/json; charset=utf-8']);
      expect(result.exitCode, result.stderr).toBe(0);
      expect(server.requests[0]).toMatchObject({ method, body: jsonBody });
      expect(server.requests[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    });
  }

  it('sends Last-Event-Id in initial request if set', async () => {
    const server = await startSseServer(hello);
    const result = await firstEvent([server.url, '--last-event-id', 'abc']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests[0]?.headers['last-event-id']).toBe('abc');
  });
});

describe('reconnection', () => {
  /** Their BreakConnection: the first response sends `first` then drops; later ones send `later` and hold. */
  const breakThen = (first: string, later = 'data: again\n\n'): Promise<SseServer> =>
    startSseServer([{ body: [`retry: 1\n${first}`, { pauseMs: 30 }, { destroy: true }] }, { body: later, then: 'hold' }]);
  const listenFor = (server: SseServer, events: number, args: readonly string[] = []) => runCli(['listen', server.url, '--json', '--max-events', String(events), '--retry-initial', '10m', ...args]);

  it('caller can trigger a restart', async () => {
    const server = await startSseServer([{ body: 'id: 1\ndata: Hello\n\n', then: 'hold' }, { body: 'data: Thanks\n\n', then: 'hold' }]);
    const cli = startCli(['listen', server.url, '--json', '--max-events', '2']);
    await cli.waitForLine(/"data":"Hello"/);
    cli.child.kill('SIGHUP');
    const result = await cli.result();
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => e['data'])).toEqual(['Hello', 'Thanks']);
    expect(server.requests[1]?.headers['last-event-id']).toBe('1');
    expect(result.stderr).toMatch(/^restarting: reconnecting now/m);
  });

  it('sends ID of last received event', async () => {
    const server = await breakThen('id: abc\ndata: Hello\n\n');
    const result = await listenFor(server, 2);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests[0]?.headers).not.toHaveProperty('last-event-id');
    expect(server.requests[1]?.headers['last-event-id']).toBe('abc');
  });

  it('sends ID of last received event that had an ID if later events did not', async () => {
    const server = await breakThen('id: abc\ndata: Hello\n\ndata: World\n\n');
    const result = await listenFor(server, 3);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).slice(0, 2).map((e) => [e['data'], e['id']])).toEqual([
      ['Hello', 'abc'],
      ['World', 'abc'],
    ]);
    expect(server.requests[1]?.headers['last-event-id']).toBe('abc');
  });

  it('last event ID can be explicitly overridden with an empty value', async () => {
    const server = await breakThen('id: abc\ndata: Hello\n\nid: \ndata: World\n\n');
    const result = await listenFor(server, 3);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout)[1]).toMatchObject({ data: 'World', id: '' });
    expect(server.requests[1]?.headers).not.toHaveProperty('last-event-id');
  });

  it('resends request body if any when reconnecting', async () => {
    const server = await breakThen('data: Hello\n\n');
    const jsonBody = '{"hello": "world"}';
    const result = await listenFor(server, 2, ['--method', 'POST', '--data', jsonBody]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests.map((r) => [r.method, r.body, r.headers['content-type']])).toEqual([
      ['POST', jsonBody, 'application/json'],
      ['POST', jsonBody, 'application/json'],
    ]);
  });

  it('can set read timeout', async () => {
    const server = await startSseServer([{ body: 'data: Hello\n\n', then: 'hold' }, { body: 'data: again\n\n', then: 'hold' }]);
    const result = await runCli(['listen', server.url, '--json', '--max-events', '2', '--heartbeat-timeout', '500ms', '--retry-initial', '10ms']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/^stalled: no data for/m);
    expect(server.requests).toHaveLength(2);
  });

  it('discards partial messages on retry', async () => {
    const server = await breakThen('id: abc\ndata: Hello\n\nid: def\ndata: Goodbye', 'data: We meet again\n\n');
    const result = await listenFor(server, 2);
    expect(result.exitCode, result.stderr).toBe(0);
    const [, again] = jsonLines(result.stdout);
    expect(again).toMatchObject({ data: 'We meet again', id: 'abc' });
    expect(server.requests[1]?.headers['last-event-id']).toBe('abc');
  });

  it('new connection established after breaking previous is functional', async () => {
    const server = await breakThen('id: abc\ndata: Hello\n\n', 'id: def\ndata: World\n\n');
    const result = await listenFor(server, 2);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(jsonLines(result.stdout).map((e) => [e['id'], e['data']])).toEqual([
      ['abc', 'Hello'],
      ['def', 'World'],
    ]);
  });
});
