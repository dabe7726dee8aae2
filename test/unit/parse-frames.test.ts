/**
 * Conformance of the frame parser with the WHATWG HTML "event stream interpretation" rules
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
 * The spec is the judge, not any library. Every table case runs whole, in 1-byte chunks and
 * split at every offset into two chunks; cases written with LF also run with CR and CRLF.
 */
import { describe, expect, it } from 'vitest';
import { createFrameParser, type FrameParser } from '../../src/stream/parse-frames.js';

type Dispatched = readonly [type: string, data: string, lastEventId: string];

interface Case {
  readonly name: string;
  /** A string is UTF-8 encoded; `\n` in it is rewritten to CR and CRLF unless `isEolFixed`. */
  readonly input: string | Uint8Array;
  readonly events: readonly Dispatched[];
  readonly comments?: readonly string[];
  readonly retries?: readonly number[];
  /** `parser.lastEventId` after `end()` (default: the last dispatched event's, else ""). */
  readonly lastEventId?: string;
  /** The input already spells its line ends (mixed CR/LF); do not rewrite them. */
  readonly isEolFixed?: boolean;
}

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));
const bytes = (...parts: (string | number[])[]): Uint8Array =>
  new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p)))));

const CASES: readonly Case[] = [
  // Dispatch basics.
  { name: 'a data line and a blank line dispatch a message event', input: 'data: hello\n\n', events: [['message', 'hello', '']] },
  { name: 'the event field sets the type', input: 'event: add\ndata: 1\n\n', events: [['add', '1', '']] },
  { name: 'several data lines are joined with LF', input: 'data: a\ndata: b\ndata: c\n\n', events: [['message', 'a\nb\nc', '']] },
  { name: 'spec example: YHOO +2 10', input: 'data: YHOO\ndata: +2\ndata: 10\n\n', events: [['message', 'YHOO\n+2\n10', '']] },
  { name: '"data" without a colon dispatches an empty-string event', input: 'data\n\n', events: [['message', '', '']] },
  { name: '"data:" with an empty value dispatches an empty-string event', input: 'data:\n\n', events: [['message', '', '']] },
  { name: 'two empty data lines dispatch a single LF', input: 'data\ndata\n\n', events: [['message', '\n', '']] },
  {
    name: 'spec example: data / data data / trailing unterminated data: is discarded',
    input: 'data\n\ndata\ndata\n\ndata:',
    events: [
      ['message', '', ''],
      ['message', '\n', ''],
    ],
  },
  {
    name: 'spec example: with and without the space after the colon are identical',
    input: 'data:test\n\ndata: test\n\n',
    events: [
      ['message', 'test', ''],
      ['message', 'test', ''],
    ],
  },
  { name: 'exactly one space after the colon is stripped', input: 'data:  x \n\n', events: [['message', ' x ', '']] },
  { name: 'a tab after the colon is kept', input: 'data:\tx\n\n', events: [['message', '\tx', '']] },
  { name: 'only the first colon separates field and value', input: 'data: a: b:c\n\n', events: [['message', 'a: b:c', '']] },
  { name: 'a NUL inside data is kept', input: 'data: a\u0000b\n\n', events: [['message', 'a\u0000b', '']] },
  { name: 'blank lines alone dispatch nothing', input: '\n\n\n\n', events: [] },
  { name: 'fields may come in any order within a block', input: 'data: 1\nevent: late\nid: 3\n\n', events: [['late', '1', '3']] },
  {
    name: 'the last event and id field in a block win',
    input: 'event: a\nevent: b\nid: 1\nid: 2\ndata: x\n\n',
    events: [['b', 'x', '2']],
  },
  {
    name: 'a long data line is delivered whole',
    input: `data: ${'x'.repeat(3_000)}\n\n`,
    events: [['message', 'x'.repeat(3_000), '']],
  },

  // Event type buffer.
  {
    name: 'the event type resets after each dispatch',
    input: 'event: x\ndata: 1\n\ndata: 2\n\n',
    events: [
      ['x', '1', ''],
      ['message', '2', ''],
    ],
  },
  {
    name: 'a block with an event type but no data is not dispatched and its type does not leak',
    input: 'event: x\n\ndata: 2\n\n',
    events: [['message', '2', '']],
  },
  { name: 'an empty event value means message', input: 'event:\ndata: 1\n\n', events: [['message', '1', '']] },
  { name: '"event" without a colon means message', input: 'event\ndata: 1\n\n', events: [['message', '1', '']] },

  // Last event ID.
  {
    name: 'the last event id persists across later events',
    input: 'id: 1\ndata: a\n\ndata: b\n\n',
    events: [
      ['message', 'a', '1'],
      ['message', 'b', '1'],
    ],
  },
  {
    name: 'spec example: id then an empty id resets the last event id',
    input: ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n',
    events: [
      ['message', 'first event', '1'],
      ['message', 'second event', ''],
      ['message', ' third event', ''],
    ],
    comments: ['test stream'],
  },
  {
    name: '"id:" with an empty value resets the last event id to ""',
    input: 'id: 1\ndata: a\n\nid:\ndata: b\n\nid: 2\ndata: c\n\n',
    events: [
      ['message', 'a', '1'],
      ['message', 'b', ''],
      ['message', 'c', '2'],
    ],
  },
  {
    name: 'an id containing NUL is ignored',
    input: 'id: 1\ndata: a\n\nid: 2\u00003\ndata: b\n\n',
    events: [
      ['message', 'a', '1'],
      ['message', 'b', '1'],
    ],
  },
  {
    name: 'an id-only block is not dispatched but updates the last event id',
    input: 'data: a\n\nid: 7\n\ndata: b\n\n',
    events: [
      ['message', 'a', ''],
      ['message', 'b', '7'],
    ],
  },
  { name: 'an id-only block at the end updates lastEventId', input: 'data: a\n\nid: 9\n\n', events: [['message', 'a', '']], lastEventId: '9' },
  {
    name: 'an id in a block that never ends (no blank line) does not update lastEventId',
    input: 'id: 1\ndata: a\n\nid: 5\ndata: b\n',
    events: [['message', 'a', '1']],
    lastEventId: '1',
  },
  { name: 'only one space is stripped from an id', input: 'id:  x\ndata: a\n\n', events: [['message', 'a', ' x']] },
  { name: 'multibyte ids are kept exactly', input: 'id: ид-1 ✓\ndata: a\n\n', events: [['message', 'a', 'ид-1 ✓']] },

  // Comments.
  {
    name: 'comments are surfaced with one leading space removed',
    input: ':keepalive\n: ping\n:\n:  two\ndata: a\n\n',
    events: [['message', 'a', '']],
    comments: ['keepalive', 'ping', '', ' two'],
  },
  {
    name: 'a comment inside a block does not split it',
    input: 'data: a\n: c\ndata: b\n\n',
    events: [['message', 'a\nb', '']],
    comments: ['c'],
  },
  { name: 'a comment-only stream dispatches nothing', input: ': hi\n\n: there\n\n', events: [], comments: ['hi', 'there'] },
  { name: 'a comment may contain colons', input: ':a:b: c\n\n', events: [], comments: ['a:b: c'] },

  // Retry.
  { name: 'retry with digits reports the reconnection time', input: 'retry: 1000\n\n', events: [], retries: [1000] },
  { name: 'retry with leading zeros is base ten', input: 'retry: 0050\n\n', events: [], retries: [50] },
  {
    name: 'retry values that are not all ASCII digits are ignored',
    input: 'retry: 10a\nretry: -5\nretry: 1.5\nretry:  100\nretry: 1e3\nretry: +7\nretry: ١٢\nretry: 2000\n\n',
    events: [],
    retries: [2000],
  },
  { name: 'a huge retry is reported as is (clamping is the reconnect policy)', input: 'retry: 99999999999\n\n', events: [], retries: [99999999999] },
  { name: 'retry alongside data does not prevent dispatch', input: 'retry: 50\ndata: x\n\n', events: [['message', 'x', '']], retries: [50] },

  // Fields.
  {
    name: 'unknown fields and fields without a colon are ignored',
    input: 'foo: bar\ndata: a\nbaz\nidx: 4\n\n',
    events: [['message', 'a', '']],
  },
  {
    name: 'field names are case-sensitive',
    input: 'Data: x\nEVENT: y\nID: 3\n\ndata: z\n\n',
    events: [['message', 'z', '']],
  },
  { name: 'a line starting with a space is not a data field', input: ' data: x\n\n', events: [] },

  // End of stream.
  { name: 'an unterminated last line is discarded at end', input: 'data: a\n\ndata: b', events: [['message', 'a', '']] },
  { name: 'a last event without its blank line is discarded at end', input: 'data: a\n\ndata: b\n', events: [['message', 'a', '']] },

  // BOM.
  { name: 'one leading BOM is stripped', input: '\uFEFFdata: a\n\n', events: [['message', 'a', '']] },
  {
    name: 'a second leading BOM is part of the first field name',
    input: '\uFEFF\uFEFFdata: a\n\ndata: b\n\n',
    events: [['message', 'b', '']],
  },
  {
    name: 'a BOM later in the stream is not stripped',
    input: 'data: a\n\n\uFEFFdata: b\n\n',
    events: [['message', 'a', '']],
  },
  { name: 'a BOM inside a value is kept', input: 'data: \uFEFFx\n\n', events: [['message', '\uFEFFx', '']] },
  {
    name: 'the first two bytes of a BOM are not a BOM (replacement character)',
    input: bytes([0xef, 0xbb], 'data: a\n\ndata: b\n\n'),
    events: [['message', 'b', '']],
  },

  // UTF-8.
  {
    name: 'multibyte UTF-8 in type, id and data survives any split',
    input: 'event: ünïcödé\nid: 世界\ndata: héllo 世界 😀\n\n',
    events: [['ünïcödé', 'héllo 世界 😀', '世界']],
  },
  { name: 'an invalid byte becomes U+FFFD', input: bytes('data: a', [0xff], 'b\n\n'), events: [['message', 'a\uFFFDb', '']] },
  {
    name: 'a multibyte character cut short by the line end becomes one U+FFFD',
    input: bytes('data: x', [0xe4, 0xb8], '\n\n'),
    events: [['message', 'x\uFFFD', '']],
  },
  {
    name: 'overlong and surrogate encodings become replacement characters',
    input: bytes('data: ', [0xc0, 0x80, 0xed, 0xa0, 0x80], '\n\n'),
    events: [['message', '\uFFFD'.repeat(5), '']],
  },
  {
    name: 'an invalid byte in a field name makes it an unknown field',
    input: bytes([0xff], 'data: x\n\ndata: y\n\n'),
    events: [['message', 'y', '']],
  },
  {
    name: 'invalid UTF-8 in an id is replaced, not dropped',
    input: bytes('id: a', [0xfe], '\ndata: x\n\n'),
    events: [['message', 'x', 'a\uFFFD']],
  },

  // Line ends spelled out (not rewritten).
  {
    name: 'CRLF inside a block, then a bare LF as the blank line',
    input: 'data: a\r\ndata: b\r\n\n',
    events: [['message', 'a\nb', '']],
    isEolFixed: true,
  },
  {
    name: 'LF followed by CR is two line ends',
    input: 'data: a\n\rdata: b\r\r',
    events: [
      ['message', 'a', ''],
      ['message', 'b', ''],
    ],
    isEolFixed: true,
  },
  { name: 'a CR as the very last byte terminates the blank line', input: 'data: a\r\r', events: [['message', 'a', '']], isEolFixed: true },
  { name: 'CRLF then a final CR dispatches', input: 'data: a\r\n\r', events: [['message', 'a', '']], isEolFixed: true },
  {
    name: 'CR, LF and CRLF mixed in one stream',
    input: 'event: t\rdata: 1\ndata: 2\r\n\r\ndata: 3\n\r',
    events: [
      ['t', '1\n2', ''],
      ['message', '3', ''],
    ],
    isEolFixed: true,
  },
  { name: 'CRLF CRLF before any field dispatches nothing', input: '\r\n\r\n\r\n', events: [], isEolFixed: true },
];

interface Collected {
  events: Dispatched[];
  comments: string[];
  retries: number[];
  lastEventId: string;
}

function newCollector(options?: { maxEventBytes?: number }): { parser: FrameParser; seen: Collected } {
  const seen: Collected = { events: [], comments: [], retries: [], lastEventId: '' };
  const parser = createFrameParser(
    {
      onEvent: (type, data, lastEventId) => seen.events.push([type, data, lastEventId]),
      onComment: (text) => seen.comments.push(text),
      onRetry: (ms) => seen.retries.push(ms),
    },
    options,
  );
  return { parser, seen };
}

function parseChunks(chunks: readonly Uint8Array[]): Collected {
  const { parser, seen } = newCollector();
  for (const chunk of chunks) parser.feed(chunk);
  parser.end();
  seen.lastEventId = parser.lastEventId;
  return seen;
}

/** Rewrites every LF byte (never part of a multibyte sequence) to `eol`. */
function withEol(input: Uint8Array, eol: string): Uint8Array {
  if (eol === '\n') return input;
  const out: number[] = [];
  for (const b of input) {
    if (b === 0x0a) for (const c of Buffer.from(eol)) out.push(c);
    else out.push(b);
  }
  return new Uint8Array(out);
}

/** Whole, 1-byte chunks, and every two-chunk split (empty chunks at both ends included). */
function chunkings(input: Uint8Array): { label: string; chunks: Uint8Array[] }[] {
  const out = [
    { label: 'whole', chunks: [input] },
    { label: '1-byte chunks', chunks: Array.from(input, (_b, i) => input.subarray(i, i + 1)) },
  ];
  for (let i = 0; i <= input.length; i += 1) out.push({ label: `split at ${i}`, chunks: [input.subarray(0, i), input.subarray(i)] });
  return out;
}

const EOLS = [
  ['LF', '\n'],
  ['CR', '\r'],
  ['CRLF', '\r\n'],
] as const;

describe('parse-frames conformance (WHATWG event stream interpretation)', () => {
  for (const c of CASES) {
    const base = typeof c.input === 'string' ? utf8(c.input) : c.input;
    const variants = c.isEolFixed ? [['as written', '\n'] as const] : EOLS;
    for (const [eolName, eol] of variants) {
      it(`${c.name} [${eolName}]`, () => {
        const input = withEol(base, eol);
        const expected = {
          events: c.events.map((e) => [...e]),
          comments: [...(c.comments ?? [])],
          retries: [...(c.retries ?? [])],
          lastEventId: c.lastEventId ?? c.events.at(-1)?.[2] ?? '',
        };
        for (const { label, chunks } of chunkings(input)) {
          const seen = parseChunks(chunks);
          expect({ ...seen, events: seen.events.map((e) => [...e]) }, `${label} of ${JSON.stringify(Buffer.from(input).toString('latin1'))}`).toEqual(expected);
        }
      });
    }
  }
});

describe('parse-frames streaming behaviour', () => {
  it('dispatches an event as soon as its blank line arrives, before end()', () => {
    const { parser, seen } = newCollector();
    parser.feed(utf8('data: a\n'));
    expect(seen.events).toEqual([]);
    parser.feed(utf8('\n'));
    expect(seen.events).toEqual([['message', 'a', '']]);
  });

  it('dispatches on a CR that ends the blank line without waiting for a possible LF', () => {
    const { parser, seen } = newCollector();
    parser.feed(utf8('data: a\r\r'));
    expect(seen.events).toEqual([['message', 'a', '']]);
    // A following LF belongs to that CR (CRLF): it must not count as another blank line.
    parser.feed(utf8('\ndata: b\r'));
    parser.feed(utf8('\n'));
    parser.feed(utf8('data: c\r\n\r\n'));
    expect(seen.events).toEqual([
      ['message', 'a', ''],
      ['message', 'b\nc', ''],
    ]);
  });

  it('a CRLF split between chunks is one line end, not two', () => {
    const { parser, seen } = newCollector();
    for (const part of ['data: a\r', '\ndata: b\r', '\n\r', '\n']) parser.feed(utf8(part));
    expect(seen.events).toEqual([['message', 'a\nb', '']]);
  });

  it('strips a BOM split over three chunks', () => {
    const { parser, seen } = newCollector();
    parser.feed(new Uint8Array([0xef]));
    parser.feed(new Uint8Array([0xbb]));
    parser.feed(new Uint8Array([0xbf]));
    parser.feed(utf8('data: x\n\n'));
    expect(seen.events).toEqual([['message', 'x', '']]);
  });

  it('accepts empty chunks anywhere', () => {
    const { parser, seen } = newCollector();
    for (const part of ['', 'data: a', '', '\n', '', '\n', '']) parser.feed(utf8(part));
    parser.end();
    expect(seen.events).toEqual([['message', 'a', '']]);
  });

  it('delivers ten thousand events from one chunk in order', () => {
    const { parser, seen } = newCollector();
    let text = '';
    for (let i = 0; i < 10_000; i += 1) text += `id: ${i}\ndata: {"n":${i}}\n\n`;
    parser.feed(utf8(text));
    expect(seen.events).toHaveLength(10_000);
    expect(seen.events[9_999]).toEqual(['message', '{"n":9999}', '9999']);
    expect(parser.lastEventId).toBe('9999');
  });

  it('matches a generated stream under random chunking and mixed line ends (seeded)', () => {
    let seed = 0x5eed;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const words = ['a', 'héllo', '世界', '😀', '{"k":1}', ' lead', 'x:y', '', 'ünï', '\u0000'];
    // One line end style per block: a CR line end followed by an LF blank line would be one CRLF.
    let blockEol = '\n';
    const eol = (): string => blockEol;
    let text = '\uFEFF';
    const expected: Dispatched[] = [];
    let lastId = '';
    for (let i = 0; i < 300; i += 1) {
      blockEol = pick(['\n', '\r', '\r\n']);
      const type = random() < 0.5 ? pick(['order.created', 'ping', 'ünï']) : '';
      const hasId = random() < 0.5;
      const lines = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(words) + pick(words));
      if (random() < 0.2) text += `: comment ${i}${eol()}`;
      if (type) text += `event: ${type}${eol()}`;
      if (hasId) {
        lastId = `${i}-${pick(words).replace('\u0000', '')}`;
        text += `id: ${lastId}${eol()}`;
      }
      for (const line of lines) text += `data: ${line}${eol()}`;
      text += eol();
      expected.push([type || 'message', lines.join('\n'), lastId]);
    }
    const input = utf8(text);
    for (let round = 0; round < 20; round += 1) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < input.length; ) {
        const size = 1 + Math.floor(random() * 17);
        chunks.push(input.subarray(at, at + size));
        at += size;
      }
      expect(parseChunks(chunks).events, `round ${round}`).toEqual(expected);
    }
  });
});

describe('parse-frames reset (a new connection)', () => {
  it('discards a partial line and a pending event', () => {
    const { parser, seen } = newCollector();
    parser.feed(utf8('event: foo\ndata: a\ndata: par'));
    parser.reset();
    parser.feed(utf8('data: b\n\n'));
    expect(seen.events).toEqual([['message', 'b', '']]);
  });

  it('keeps the last event id across the reset, as browsers do', () => {
    const { parser, seen } = newCollector();
    parser.feed(utf8('id: 1\ndata: a\n\n'));
    parser.reset();
    expect(parser.lastEventId).toBe('1');
    parser.feed(utf8('data: b\n\n'));
    expect(seen.events).toEqual([
      ['message', 'a', '1'],
      ['message', 'b', '1'],
    ]);
  });

  it('sets the last event id when given one', () => {
    const { parser, seen } = newCollector();
    parser.feed(utf8('id: 1\ndata: a\n\n'));
    parser.reset('z');
    expect(parser.lastEventId).toBe('z');
    parser.feed(utf8('data: b\n\n'));
    expect(seen.events.at(-1)).toEqual(['message', 'b', 'z']);
  });

  it('clears the last event id when given an empty one', () => {
    const { parser, seen } = newCollector();
    parser.feed(utf8('id: 1\ndata: a\n\n'));
    parser.reset('');
    expect(parser.lastEventId).toBe('');
    parser.feed(utf8('data: b\n\n'));
    expect(seen.events.at(-1)).toEqual(['message', 'b', '']);
  });

  it('strips a BOM at the start of the new connection', () => {
    const { parser, seen } = newCollector();
    parser.feed(utf8('\uFEFFdata: a\n\n'));
    parser.reset();
    parser.feed(utf8('\uFEFFdata: b\n\n'));
    expect(seen.events.map((e) => e[1])).toEqual(['a', 'b']);
  });

  it('does not let an id from an unfinished block of the old connection leak', () => {
    const { parser, seen } = newCollector();
    parser.feed(utf8('id: 1\ndata: a\n\nid: 2\ndata: b\n'));
    parser.reset();
    expect(parser.lastEventId).toBe('1');
    parser.feed(utf8('data: c\n\n'));
    expect(seen.events.map((e) => e[2])).toEqual(['1', '1']);
  });

  it('forgets a trailing CR from the old connection', () => {
    const { parser, seen } = newCollector();
    parser.feed(utf8('data: a\r'));
    parser.reset();
    parser.feed(utf8('data: b\n\n'));
    expect(seen.events).toEqual([['message', 'b', '']]);
  });
});

describe('parse-frames size cap (maxEventBytes)', () => {
  const catchError = (fn: () => void): unknown => {
    try {
      fn();
    } catch (error) {
      return error;
    }
    return undefined;
  };
  const expectTooLarge = (error: unknown): void => {
    expect(error, 'expected a ProtocolError').toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: 'SSEKIT_EVENT_TOO_LARGE', exitCode: 5 });
  };

  it('throws on a line over the cap long before the line ends (memory stays bounded)', () => {
    const { parser } = newCollector({ maxEventBytes: 1024 });
    parser.feed(utf8('data: '));
    const chunk = utf8('a'.repeat(100));
    let fed = 6;
    const error = catchError(() => {
      for (let i = 0; i < 1000; i += 1) {
        parser.feed(chunk);
        fed += chunk.length;
      }
    });
    expectTooLarge(error);
    expect(fed).toBeLessThanOrEqual(1024 + 200);
  });

  it('throws on an event whose data lines add up to more than the cap', () => {
    const { parser, seen } = newCollector({ maxEventBytes: 1024 });
    const error = catchError(() => {
      for (let i = 0; i < 30; i += 1) parser.feed(utf8(`data: ${'b'.repeat(50)}\n`));
      parser.feed(utf8('\n'));
    });
    expectTooLarge(error);
    expect(seen.events).toEqual([]);
  });

  it('throws on a comment line over the cap', () => {
    const { parser } = newCollector({ maxEventBytes: 1024 });
    expectTooLarge(catchError(() => parser.feed(utf8(`:${'c'.repeat(4096)}`))));
  });

  it('applies per event: many events below the cap are fine in total', () => {
    const { parser, seen } = newCollector({ maxEventBytes: 1024 });
    for (let i = 0; i < 100; i += 1) parser.feed(utf8(`data: ${'d'.repeat(300)}\ndata: ${'e'.repeat(300)}\n\n`));
    expect(seen.events).toHaveLength(100);
  });

  it('accepts an event well under the cap, in one chunk or byte by byte', () => {
    const text = `data: ${'f'.repeat(500)}\n\n`;
    const whole = newCollector({ maxEventBytes: 1024 });
    whole.parser.feed(utf8(text));
    const bytewise = newCollector({ maxEventBytes: 1024 });
    for (const b of utf8(text)) bytewise.parser.feed(new Uint8Array([b]));
    expect(whole.seen.events).toEqual([['message', 'f'.repeat(500), '']]);
    expect(bytewise.seen.events).toEqual(whole.seen.events);
  });

  it('defaults to 1 MiB', () => {
    const ok = newCollector();
    ok.parser.feed(utf8(`data: ${'g'.repeat(900 * 1024)}\n\n`));
    expect(ok.seen.events).toHaveLength(1);
    const tooBig = newCollector();
    const big = utf8('h'.repeat(64 * 1024));
    expectTooLarge(
      catchError(() => {
        tooBig.parser.feed(utf8('data: '));
        for (let i = 0; i < 32; i += 1) tooBig.parser.feed(big);
      }),
    );
  });
});
