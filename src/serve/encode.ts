/**
 * SSE frame encoder (WHATWG HTML "Server-sent events", §9.2.5 / event stream interpretation).
 * Pure functions with no I/O: `ssekit serve` encodes each broadcast once with these and writes
 * the same bytes to every client; tests and fixtures use them to build streams byte for byte.
 */

/** One event-stream block. Every field is optional; an empty frame encodes to nothing. */
export interface SseFrame {
  /** `id:` (sets the client's Last-Event-ID). Must not contain CR, LF or NUL. */
  readonly id?: string | number | undefined;
  /** `event:` type. Must not contain CR or LF. Absent means the client dispatches `message`. */
  readonly event?: string | undefined;
  /** `data:` payload; split into one `data:` line per line of text. */
  readonly data?: string | undefined;
  /** `retry:` reconnection time in milliseconds (a non-negative integer). */
  readonly retryMs?: number | undefined;
  /** A comment (`:` line), written before the fields; ignored by parsers, proof of life for clients. */
  readonly comment?: string | undefined;
}

// WHATWG SSE: lines end with CRLF, LF or CR, so any of them inside a value would split it.
const LINE_BREAK_RE = /\r\n|\r|\n/;

/**
 * Encodes one frame, terminated by the blank line that dispatches it.
 * A `data` value containing line breaks becomes several `data:` lines, which the client joins
 * back with `\n` (so CRLF/CR in the input come back as LF: that is the protocol, not a bug).
 * The separator is always `": "`: parsers strip exactly one leading space, so a value that itself
 * starts with a space survives.
 */
export function encodeFrame(frame: SseFrame): string {
  let out = '';
  if (frame.comment !== undefined) out += encodeCommentLines(frame.comment);
  if (frame.retryMs !== undefined) {
    if (!Number.isInteger(frame.retryMs) || frame.retryMs < 0) throw new RangeError(`retry must be a non-negative integer, got ${frame.retryMs}`);
    out += `retry: ${frame.retryMs}\n`;
  }
  if (frame.id !== undefined) {
    const id = String(frame.id);
    // WHATWG SSE: an id containing NUL is ignored by the client, so refuse to write one.
    if (LINE_BREAK_RE.test(id) || id.includes('\0')) throw new RangeError('id must not contain CR, LF or NUL');
    out += id === '' ? 'id:\n' : `id: ${id}\n`;
  }
  if (frame.event !== undefined) {
    if (LINE_BREAK_RE.test(frame.event)) throw new RangeError('event must not contain CR or LF');
    out += `event: ${frame.event}\n`;
  }
  if (frame.data !== undefined) {
    for (const line of frame.data.split(LINE_BREAK_RE)) out += line === '' ? 'data:\n' : `data: ${line}\n`;
  }
  return out === '' ? '' : `${out}\n`;
}

/** `event` + JSON `data` (the common shape in CONTRACTS §3-§5). `undefined` type means no `event:` line (§1). */
export function encodeJsonEvent(event: string | undefined, payload: unknown, id?: string | number): string {
  return encodeFrame({ event, data: JSON.stringify(payload), id });
}

/**
 * A comment block such as `:keepalive` (CONTRACTS §1) or `: ping` (§4). The text is written
 * verbatim after the colon, so pass `' ping'` to get the space the §4 sample sends.
 */
export function encodeComment(text: string): string {
  return `${encodeCommentLines(text)}\n`;
}

function encodeCommentLines(text: string): string {
  let out = '';
  for (const line of text.split(LINE_BREAK_RE)) out += `:${line}\n`;
  return out;
}

/** Concatenates frames into one stream text (fixtures). */
export function encodeStream(frames: readonly SseFrame[]): string {
  return frames.map(encodeFrame).join('');
}

/** What a conforming client dispatches for a frame: the expected side of a fixture. */
export interface DispatchedEvent {
  readonly type: string;
  readonly data: string;
  readonly lastEventId: string;
}

/** Options for {@link generateFixture}. */
export interface FixtureOptions {
  /** PRNG seed: the same seed always gives the same bytes. */
  readonly seed: number;
  /** Number of frames (comments and retry-only frames included). */
  readonly frames: number;
  /** Line ending to use between lines (the parser must accept all three). Default `\n`. */
  readonly lineEnding?: '\n' | '\r\n' | '\r';
}

/** A generated stream and the events a client must dispatch from it. */
export interface Fixture {
  readonly text: string;
  readonly events: readonly DispatchedEvent[];
}

/**
 * Seeded stream generator for parser tests and `bench:perf` (STYLE "Fixtures come from
 * serve/encode.ts, seeded"): a mix of JSON events, multi-line and multibyte data, ids,
 * comments and retry frames. Frames without data are not dispatched (WHATWG SSE), so they
 * appear in `text` but not in `events`.
 */
export function generateFixture(options: FixtureOptions): Fixture {
  const random = mulberry32(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const words = ['order', 'заказ', '주문', 'café', 'ok', '{"a":1}', 'data: not a field', ':colon', ' lead', '🚚'];
  const frames: SseFrame[] = [];
  const events: DispatchedEvent[] = [];
  let lastEventId = '';
  for (let index = 0; index < options.frames; index += 1) {
    const roll = random();
    if (roll < 0.1) {
      frames.push({ comment: pick(['keepalive', ' ping', '']) });
      continue;
    }
    if (roll < 0.15) {
      frames.push({ retryMs: Math.floor(random() * 5000) });
      continue;
    }
    const lineCount = 1 + Math.floor(random() * 3);
    const lines: string[] = [];
    for (let line = 0; line < lineCount; line += 1) lines.push(random() < 0.3 ? JSON.stringify({ n: index, w: pick(words) }) : `${pick(words)} ${index}`);
    const event = random() < 0.7 ? pick(['order.created', 'notification', 'order_updated', 'ping']) : undefined;
    const id = random() < 0.5 ? String(index) : undefined;
    if (id !== undefined) lastEventId = id;
    const data = lines.join('\n');
    frames.push({ event, data, id });
    events.push({ type: event ?? 'message', data, lastEventId });
  }
  const lf = encodeStream(frames);
  const ending = options.lineEnding ?? '\n';
  return { text: ending === '\n' ? lf : lf.replace(/\n/g, ending), events };
}

// Small, fast, well-known 32-bit PRNG; good enough for fixtures, reproducible across platforms.
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
