/**
 * Content-Encoding for streams: ssekit sends `Accept-Encoding: gzip, deflate, br` (as browsers
 * do), so a server or proxy may compress the event stream. Without decoding, a gzip stream
 * parses as garbage: 0 events and exit 0 (issue 13). The decoder is zlib's streaming one, fed
 * chunk by chunk: it never holds the whole body, and decoded bytes reach the parser as soon as
 * zlib has them (a server that flushes each event with Z_SYNC_FLUSH is read event by event).
 *
 * A decompression bomb is a small input that inflates to an unbounded output. Decoded bytes go
 * to the frame parser, whose `--max-event-size` cap ends a runaway line or event (exit 5); on
 * top of that, `maxBytes` caps what one compressed chunk may inflate to, so a stream of blank
 * lines packed a thousand to one cannot spin the parser through gigabytes either.
 *
 * For bench's per-client hot path the API is a plain object, no Readable in between: call
 * `write(chunk)` from `onResponseData`, `end()` from `onResponseEnd`, and receive `onData`.
 */
import type { Transform } from 'node:stream';
import { constants, createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { ProtocolError } from '../core/errors.js';
import { quoteServerText } from '../core/escape.js';

/** The `Accept-Encoding` every stream request sends (the codings `createBodyDecoder` reads). */
export const ACCEPT_ENCODING = 'gzip, deflate, br';

/** A coding `createBodyDecoder` can undo. */
export type ContentCoding = 'identity' | 'gzip' | 'deflate' | 'br';

/** Options for `createBodyDecoder`. */
export interface BodyDecoderOptions {
  /** The most decoded bytes one compressed `write` may inflate to; more is a decompression bomb (ProtocolError, exit 5). */
  readonly maxBytes: number;
  /** Decoded bytes, in order; called asynchronously (after `write` returned), never with an empty chunk. */
  readonly onData: (decoded: Buffer) => void;
  /** All input was decoded and delivered (after `end`). */
  readonly onEnd?: (() => void) | undefined;
  /** Corrupt input or a bomb: a `ProtocolError`. Nothing is delivered after it. */
  readonly onError?: ((error: ProtocolError) => void) | undefined;
  /** The decoder took its queued input: `write` may be called again after it returned false. */
  readonly onDrain?: (() => void) | undefined;
}

/** An incremental decoder for one response body. */
export interface BodyDecoder {
  /** Feeds compressed bytes. False: input is queued past zlib's buffer; wait for `onDrain`. */
  write(chunk: Uint8Array): boolean;
  /** No more input: what is left is decoded, then `onEnd`. A truncated stream ends without an error. */
  end(): void;
  /** Stops delivering decoded bytes (backpressure from the consumer), and so taking input. */
  pause(): void;
  resume(): void;
  /** Drops everything; no callback after it. */
  destroy(): void;
}

/**
 * The default `maxBytes` for a stream whose events are capped at `maxEventBytes`: a network
 * chunk is at most 64 KiB, so even a thousand-to-one ratio of honest, repetitive JSON stays under
 * 64 MiB; more from one chunk is a bomb. listen, publish and bench use the same figure.
 */
export function decompressionCapFor(maxEventBytes: number): number {
  return Math.max(64 * maxEventBytes, 64 * 1024 * 1024);
}

/**
 * The coding named by a `Content-Encoding` value: `identity` when absent. Throws a
 * `ProtocolError` for a coding ssekit did not offer (the server broke the negotiation) or a
 * list of several codings.
 */
export function contentCodingOf(value: string | undefined): ContentCoding {
  const coding = (value ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return 'identity';
  if (coding === 'gzip' || coding === 'x-gzip') return 'gzip';
  if (coding === 'deflate' || coding === 'br') return coding;
  throw new ProtocolError('SSEKIT_BAD_ENCODING', `server sent Content-Encoding ${quoteServerText(value ?? '', 60)}, which ssekit did not offer (it accepts ${ACCEPT_ENCODING})`, {
    hint: 'the server or a proxy in between compressed the stream with a coding the client did not ask for',
  });
}

/**
 * Creates the decoder for `coding`. For `identity` it is a pass-through that calls `onData`
 * synchronously from `write` (callers on a hot path may skip it: check the coding first).
 */
export function createBodyDecoder(coding: ContentCoding, options: BodyDecoderOptions): BodyDecoder {
  if (coding === 'identity') return createIdentityDecoder(options);
  return createZlibDecoder(coding, options);
}

function createIdentityDecoder(options: BodyDecoderOptions): BodyDecoder {
  let isDone = false;
  return {
    write(chunk) {
      if (!isDone && chunk.length > 0) options.onData(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return true;
    },
    end() {
      if (isDone) return;
      isDone = true;
      options.onEnd?.();
    },
    pause: noop,
    resume: noop,
    destroy() {
      isDone = true;
    },
  };
}

// A truncated stream (the server closed mid-block, as SSE servers do) is the normal end of an
// event stream, not corruption: flush what is there instead of raising "unexpected end of file".
const ZLIB_OPTIONS = { flush: constants.Z_SYNC_FLUSH, finishFlush: constants.Z_SYNC_FLUSH } as const;
const BROTLI_OPTIONS = { flush: constants.BROTLI_OPERATION_FLUSH, finishFlush: constants.BROTLI_OPERATION_FLUSH } as const;

/** What the zlib decoder tracks between writes. */
interface ZlibDecoderState {
  stream: Transform | undefined;
  /** Decoded bytes since the last compressed chunk came in (the bomb check). */
  decodedSinceWrite: number;
  isDone: boolean;
}

function createZlibDecoder(coding: Exclude<ContentCoding, 'identity'>, options: BodyDecoderOptions): BodyDecoder {
  const state: ZlibDecoderState = { stream: undefined, decodedSinceWrite: 0, isDone: false };
  const fail = (error: ProtocolError): void => {
    if (state.isDone) return;
    state.isDone = true;
    state.stream?.destroy();
    options.onError?.(error);
  };
  const start = (first: Uint8Array): Transform => {
    const stream = openZlibStream(coding, first);
    stream.on('data', (decoded: Buffer) => {
      if (state.isDone) return;
      state.decodedSinceWrite += decoded.length;
      if (state.decodedSinceWrite > options.maxBytes) fail(bombError(options.maxBytes));
      else options.onData(decoded);
    });
    stream.on('end', () => {
      if (state.isDone) return;
      state.isDone = true;
      options.onEnd?.();
    });
    stream.on('error', (error: Error) => fail(corruptError(coding, error)));
    stream.on('drain', () => options.onDrain?.());
    return stream;
  };
  return {
    write(chunk) {
      if (state.isDone || chunk.length === 0) return true;
      state.stream ??= start(chunk);
      state.decodedSinceWrite = 0;
      return state.stream.write(chunk);
    },
    end() {
      if (state.isDone) return;
      if (state.stream === undefined) {
        state.isDone = true;
        options.onEnd?.();
      } else state.stream.end();
    },
    pause() {
      state.stream?.pause();
    },
    resume() {
      state.stream?.resume();
    },
    destroy() {
      state.isDone = true;
      state.stream?.destroy();
    },
  };
}

/**
 * The zlib stream for a coding. `deflate` is zlib-wrapped (RFC 9110 §8.4.1.2), but some servers
 * send raw deflate, as browsers tolerate: a zlib header's first byte has compression method 8 in
 * its low nibble (RFC 1950), which a raw deflate block's first byte rarely has.
 */
function openZlibStream(coding: Exclude<ContentCoding, 'identity'>, first: Uint8Array): Transform {
  if (coding === 'gzip') return createGunzip(ZLIB_OPTIONS);
  if (coding === 'br') return createBrotliDecompress(BROTLI_OPTIONS);
  const isZlibWrapped = ((first[0] ?? 0) & 0x0f) === 8;
  return isZlibWrapped ? createInflate(ZLIB_OPTIONS) : createInflateRaw(ZLIB_OPTIONS);
}

function bombError(maxBytes: number): ProtocolError {
  return new ProtocolError('SSEKIT_DECOMPRESSION_BOMB', `one compressed chunk inflated past ${maxBytes} bytes: a decompression bomb, not an event stream`, {
    hint: 'raise --max-event-size if the server really sends this much at once',
  });
}

function corruptError(coding: string, error: Error): ProtocolError {
  const code = (error as { code?: unknown }).code;
  return new ProtocolError('SSEKIT_BAD_ENCODING', `the ${coding} stream does not decode (${typeof code === 'string' ? code : 'corrupt data'})`, { cause: error });
}

function noop(): void {}
