/**
 * The event-stream parser: bytes in, dispatched events out, exactly per the WHATWG HTML
 * "event stream interpretation" rules.
 *
 * Why our own and not eventsource-parser 3.x: that library works on decoded strings and drops
 * three things the spec requires, none of which a wrapper can recover because the library never
 * reports them: (1) an `id:` in a block with no `data:` line still updates the last event ID;
 * (2) a CR that is the last byte of the stream ends its line; (3) only a real leading U+FEFF is a
 * BOM (it compares the first three UTF-16 code units with 0xEF 0xBB 0xBF, so it strips "ï»¿"
 * and misses the BOM when the decoder kept it). Working on bytes (as undici's EventSourceStream
 * does) also lets us cap memory in bytes before decoding anything, and decode each line once
 * with Buffer#toString, which replaces invalid UTF-8 with U+FFFD per the Encoding spec.
 */
import { ProtocolError } from '../core/errors.js';

/** Receives what the parser finds. Scalars, not objects: this is the per-event hot path. */
export interface FrameHandlers {
  /** A dispatched event: `type` is `message` when the block had no `event:` field. */
  onEvent(type: string, data: string, lastEventId: string): void;
  /** A comment line, without the colon and one leading space (`:keepalive` → `keepalive`). */
  onComment?(text: string): void;
  /** A `retry:` field made only of ASCII digits, in milliseconds (unclamped: the caller clamps). */
  onRetry?(ms: number): void;
}

/** A parser for one logical stream; `reset` between connections. */
export interface FrameParser {
  /** Feeds a chunk. Throws `ProtocolError` (`SSEKIT_EVENT_TOO_LARGE`) when a line or event is over the cap. */
  feed(chunk: Uint8Array): void;
  /** End of the byte stream: an unterminated line or event is discarded (WHATWG: "pending data must be discarded"). */
  end(): void;
  /** Starts a new connection's stream; the last event ID survives unless one is given. */
  reset(lastEventId?: string): void;
  /** The last event ID string, as a reconnect sends it in `Last-Event-ID`. */
  readonly lastEventId: string;
}

/** Options for `createFrameParser`. */
export interface FrameParserOptions {
  /** Largest line, and largest event data, in bytes (default 1 MiB). */
  readonly maxEventBytes?: number;
  /** The initial last event ID (e.g. from `--last-event-id`). Default "". */
  readonly lastEventId?: string;
}

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;
const SPACE = 0x20;
const NUL = 0x00;
const UTF8 = undefined; // Buffer#toString's default (UTF-8), without its encoding lookup
const DEFAULT_MAX_EVENT_BYTES = 1024 * 1024;

/** Creates a byte-level event-stream parser. */
export function createFrameParser(handlers: FrameHandlers, options: FrameParserOptions = {}): FrameParser {
  const maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  // Handlers are called as methods (`handlers.onEvent(...)`), so a class instance can be the
  // handler without a bound closure per connection.

  // Bytes of the current, not yet terminated line, kept as the chunks they came in.
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  // The previous chunk ended in CR: a LF starting the next chunk belongs to that line end.
  let isAfterCR = false;
  // The BOM check applies to the stream's first bytes only, which may arrive one at a time.
  let isAtStreamStart = true;

  let dataBuffer = '';
  let dataBytes = 0;
  let hasData = false;
  let eventType = '';
  let lastEventIdBuffer = options.lastEventId ?? '';
  let lastEventId = lastEventIdBuffer;

  function tooLarge(what: string): ProtocolError {
    // Drop what we held so memory is released even if the caller keeps the parser.
    pending = [];
    pendingBytes = 0;
    dataBuffer = '';
    dataBytes = 0;
    hasData = false;
    return new ProtocolError('SSEKIT_EVENT_TOO_LARGE', `${what} is over the ${maxEventBytes}-byte limit`, {
      hint: 'raise --max-event-size if the server really sends events this large',
    });
  }

  function dispatch(): void {
    // WHATWG: the last event ID string is set from the buffer even when nothing is dispatched.
    lastEventId = lastEventIdBuffer;
    if (!hasData) {
      eventType = '';
      return;
    }
    const type = eventType === '' ? 'message' : eventType;
    const data = dataBuffer;
    dataBuffer = '';
    dataBytes = 0;
    hasData = false;
    eventType = '';
    handlers.onEvent(type, data, lastEventId);
  }

  function processLine(line: Buffer, start: number, end: number): void {
    if (start === end) {
      dispatch();
      return;
    }
    const first = line[start];
    if (first === COLON) {
      if (handlers.onComment !== undefined) {
        const textStart = line[start + 1] === SPACE ? start + 2 : start + 1;
        handlers.onComment(line.toString(UTF8, textStart, end));
      }
      return;
    }
    const colon = indexWithin(line, COLON, start, end);
    let valueStart = colon + 1;
    if (valueStart < end && line[valueStart] === SPACE) valueStart += 1;
    if (valueStart > end) valueStart = end;
    const nameLength = colon - start;

    if (nameLength === 4 && first === 0x64 && line[start + 1] === 0x61 && line[start + 2] === 0x74 && line[start + 3] === 0x61) {
      // data
      const valueBytes = end - valueStart;
      dataBytes += valueBytes + 1;
      if (dataBytes > maxEventBytes) throw tooLarge('an event');
      const value = valueBytes === 0 ? '' : line.toString(UTF8, valueStart, end);
      dataBuffer = hasData ? `${dataBuffer}\n${value}` : value;
      hasData = true;
    } else if (nameLength === 5 && first === 0x65 && line[start + 1] === 0x76 && line[start + 2] === 0x65 && line[start + 3] === 0x6e && line[start + 4] === 0x74) {
      // event
      eventType = line.toString(UTF8, valueStart, end);
    } else if (nameLength === 2 && first === 0x69 && line[start + 1] === 0x64) {
      // id: WHATWG says a value containing U+0000 NULL is ignored.
      if (indexWithin(line, NUL, valueStart, end) === end) lastEventIdBuffer = line.toString(UTF8, valueStart, end);
    } else if (nameLength === 5 && first === 0x72 && line[start + 1] === 0x65 && line[start + 2] === 0x74 && line[start + 3] === 0x72 && line[start + 4] === 0x79) {
      // retry: only ASCII digits count; anything else is ignored.
      if (valueStart === end || handlers.onRetry === undefined) return;
      let ms = 0;
      for (let i = valueStart; i < end; i++) {
        const c = line[i] as number;
        if (c < 0x30 || c > 0x39) return;
        ms = ms * 10 + (c - 0x30);
      }
      handlers.onRetry(ms);
    }
    // Any other field name is ignored (WHATWG).
  }

  function takeLine(chunk: Buffer, start: number, end: number): void {
    let line: Buffer;
    let lineStart: number;
    let lineEnd: number;
    if (pendingBytes === 0 && pending.length === 0) {
      line = chunk;
      lineStart = start;
      lineEnd = end;
    } else {
      if (pendingBytes + (end - start) > maxEventBytes) throw tooLarge('a line');
      pending.push(chunk.subarray(start, end));
      line = Buffer.concat(pending, pendingBytes + (end - start));
      pending = [];
      pendingBytes = 0;
      lineStart = 0;
      lineEnd = line.length;
    }
    if (isAtStreamStart) {
      isAtStreamStart = false;
      if (lineEnd - lineStart >= 3 && line[lineStart] === 0xef && line[lineStart + 1] === 0xbb && line[lineStart + 2] === 0xbf) lineStart += 3;
    }
    if (lineEnd - lineStart > maxEventBytes) throw tooLarge('a line');
    processLine(line, lineStart, lineEnd);
  }

  function feed(input: Uint8Array): void {
    const chunk = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const length = chunk.length;
    let position = 0;
    if (isAfterCR) {
      isAfterCR = false;
      if (length > 0 && chunk[0] === LF) position = 1;
    }
    // Positions of the next LF and CR; each is searched again only once passed.
    let nextLF = -2;
    let nextCR = -2;
    while (position < length) {
      if (nextLF !== -1 && nextLF < position) nextLF = chunk.indexOf(LF, position);
      if (nextCR !== -1 && nextCR < position) nextCR = chunk.indexOf(CR, position);
      let lineEnd: number;
      if (nextLF === -1) lineEnd = nextCR;
      else if (nextCR === -1) lineEnd = nextLF;
      else lineEnd = nextLF < nextCR ? nextLF : nextCR;
      if (lineEnd === -1) {
        const rest = length - position;
        if (pendingBytes + rest > maxEventBytes) throw tooLarge('a line');
        // Copy the tail so a large chunk is not kept alive by a few trailing bytes.
        pending.push(position === 0 && rest === length ? chunk : Buffer.from(chunk.subarray(position)));
        pendingBytes += rest;
        return;
      }
      takeLine(chunk, position, lineEnd);
      if (chunk[lineEnd] === CR) {
        if (lineEnd + 1 < length) position = chunk[lineEnd + 1] === LF ? lineEnd + 2 : lineEnd + 1;
        else {
          isAfterCR = true;
          position = lineEnd + 1;
        }
      } else {
        position = lineEnd + 1;
        // The blank line that ends most events follows at once: dispatch without a search.
        while (position < length && chunk[position] === LF) {
          dispatch();
          position += 1;
        }
      }
    }
  }

  function clearStreamState(): void {
    pending = [];
    pendingBytes = 0;
    isAfterCR = false;
    isAtStreamStart = true;
    dataBuffer = '';
    dataBytes = 0;
    hasData = false;
    eventType = '';
    lastEventIdBuffer = lastEventId;
  }

  return {
    feed,
    end: clearStreamState,
    reset(nextLastEventId?: string): void {
      if (nextLastEventId !== undefined) lastEventId = nextLastEventId;
      clearStreamState();
    },
    get lastEventId(): string {
      return lastEventId;
    },
  };
}

/**
 * The first `byte` in `buf[from, to)`, or `to`. A bounded loop, not `Buffer#indexOf`, which
 * would search past the line to the end of the chunk: with many events per large chunk that
 * turns linear parsing quadratic.
 */
function indexWithin(buf: Buffer, byte: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (buf[i] === byte) return i;
  return to;
}
