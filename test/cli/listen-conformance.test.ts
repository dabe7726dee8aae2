/**
 * Byte-exact event streams through the real CLI (`listen --json --no-reconnect`) from a real
 * server that writes its chunks at awkward places: between CR and LF, inside a multibyte UTF-8
 * character, inside a BOM. The unit suite covers every split; this proves the wiring keeps it.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { chunked, oneByteAtATime, startSseServer, type ScriptStep } from '../helpers/sse-server.js';

interface Expected {
  readonly event: string;
  readonly type?: string;
  readonly id: string;
  readonly data: string;
}

const b = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

/** Splits a UTF-8 string's bytes at the given byte offsets. */
function splitAt(text: string | Buffer, ...offsets: number[]): Buffer[] {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const out: Buffer[] = [];
  let from = 0;
  for (const at of offsets) {
    out.push(bytes.subarray(from, at));
    from = at;
  }
  out.push(bytes.subarray(from));
  return out;
}

async function listenTo(body: readonly ScriptStep[], extraArgs: readonly string[] = []): Promise<{ lines: Record<string, unknown>[]; exitCode: number; stderr: string; url: string }> {
  const server = await startSseServer({ body });
  const result = await runCli(['listen', server.url, '--json', '--no-reconnect', ...extraArgs]);
  const lines = result.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { lines, exitCode: result.exitCode, stderr: result.stderr, url: server.url };
}

function expectEvents(lines: Record<string, unknown>[], expected: readonly Expected[]): void {
  expect(lines.map((l) => ({ event: l['event'], type: l['type'], id: l['id'], data: l['data'] }))).toEqual(
    expected.map((e) => ({ event: e.event, type: e.type ?? e.event, id: e.id, data: e.data })),
  );
}

const multibyte = 'event: ünï\nid: 世界\ndata: héllo 世界 😀\n\n';
// Byte offsets inside characters: "ü" starts at 7 (split after its first byte), "世" of the id,
// and the 4-byte emoji split after two bytes.
const emojiAt = Buffer.from(multibyte).indexOf(Buffer.from('😀'));
const idAt = Buffer.from(multibyte).indexOf(Buffer.from('世'));

const CASES: readonly { name: string; chunks: readonly (string | Buffer)[]; expected: readonly Expected[] }[] = [
  {
    name: 'CRLF line ends split between CR and LF',
    chunks: ['id: 1\r', '\ndata: a\r', '\ndata: b\r', '\n\r', '\n'],
    expected: [{ event: 'message', id: '1', data: 'a\nb' }],
  },
  {
    name: 'bare CR line ends, the blank line arriving alone',
    chunks: ['event: t\rdata: x\r', '\r', 'data: y\r\r'],
    expected: [
      { event: 't', id: '', data: 'x' },
      { event: 'message', id: '', data: 'y' },
    ],
  },
  {
    name: 'multibyte UTF-8 split inside characters',
    chunks: splitAt(multibyte, 8, idAt + 1, emojiAt + 2),
    expected: [{ event: 'ünï', id: '世界', data: 'héllo 世界 😀' }],
  },
  {
    name: 'a BOM split across chunks is stripped',
    chunks: [b([0xef]), b([0xbb, 0xbf], 'da'), 'ta: first\n\n'],
    expected: [{ event: 'message', id: '', data: 'first' }],
  },
  {
    name: 'comments, empty data, id-only blocks and NUL ids',
    chunks: [':keepalive\n: ping\n', 'data\n\nid: 7\n', '\ndata: after id-only\n\nid: x\u0000y\ndata: nul id ignored\n\nid\ndata: reset\n\n'],
    expected: [
      { event: 'message', id: '', data: '' },
      { event: 'message', id: '7', data: 'after id-only' },
      { event: 'message', id: '7', data: 'nul id ignored' },
      { event: 'message', id: '', data: 'reset' },
    ],
  },
  {
    name: 'the space after the colon, fields without colon, unknown fields, retry',
    chunks: ['data:no-space\n\ndata:  two\n\nfoo: bar\nretry: 10x\nretry: 1000\nevent\ndata: plain\n\n'],
    expected: [
      { event: 'message', id: '', data: 'no-space' },
      { event: 'message', id: '', data: ' two' },
      { event: 'message', id: '', data: 'plain' },
    ],
  },
  {
    name: 'an unterminated last event is discarded when the server closes',
    chunks: ['data: kept\n\n', 'data: lost\n'],
    expected: [{ event: 'message', id: '', data: 'kept' }],
  },
  {
    name: 'invalid UTF-8 becomes U+FFFD',
    chunks: [b('data: caf', [0xc3]), b(' ', [0xff, 0xfe], 'end\n\n')],
    expected: [{ event: 'message', id: '', data: 'caf\uFFFD \uFFFD\uFFFDend' }],
  },
  {
    name: 'JSON data normalizes the type from its event field',
    chunks: ['data: {"event":"order.created",', '"data":{"order_id":1}}\n\n'],
    expected: [{ event: 'message', type: 'order.created', id: '', data: '{"event":"order.created","data":{"order_id":1}}' }],
  },
];

describe('listen --json conformance through the CLI', () => {
  for (const c of CASES) {
    it(`${c.name}`, async () => {
      const { lines, exitCode, stderr } = await listenTo(chunked(c.chunks, 30));
      expectEvents(lines, c.expected);
      expect(stderr).not.toMatch(/internal error/);
      expect(exitCode).not.toBe(1);
    });
  }

  it('reads a whole stream written one byte at a time', async () => {
    const text = '\uFEFFevent: a\r\nid: 1\r\ndata: 世界\r\n\r\n: c\rdata: 😀\r\rdata: z\n\n';
    const { lines } = await listenTo(oneByteAtATime(text, 2));
    expectEvents(lines, [
      { event: 'a', id: '1', data: '世界' },
      { event: 'message', id: '1', data: '😀' },
      { event: 'message', id: '1', data: 'z' },
    ]);
  });

  it('prints an event whose blank line is a CR that is the last byte sent while the connection stays open', async () => {
    // The server holds the connection after the final CR: the event must come out without
    // waiting for a byte that never arrives.
    const server = await startSseServer({ body: ['data: last\r\r'], then: 'hold' });
    const result = await runCli(['listen', server.url, '--json', '--max-events', '1']);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ event: 'message', data: 'last' });
  });

  it('keeps the data string exact: spaces, tabs, backslashes, quotes, NUL', async () => {
    const data = ' \t lead\\ "q" \u0000 trail ';
    const { lines } = await listenTo([`data:${' '}${data}\n\n`]);
    expect(lines[0]?.['data']).toBe(data);
  });
});
