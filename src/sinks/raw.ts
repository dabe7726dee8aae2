/**
 * `listen --raw`: the stream's bytes as received (after Content-Encoding is undone), as `curl -N`
 * shows them, with ssekit's reconnects, Last-Event-ID and limits underneath. Escaped for the
 * terminal: control characters become visible escapes, except LF, TAB and CR before LF (a lone
 * CR would move the cursor back and let the server overwrite what is shown). UTF-8 is decoded
 * across chunk boundaries, one decoder per connection.
 */
import { TextDecoder } from 'node:util';
import { escapeControl } from '../core/escape.js';
import type { ListenSink, ListenStream } from '../listen/run-listen.js';
import type { StreamStatus } from '../transport/sse-connection.js';

/** Options for the raw sink. */
export interface RawSinkOptions {
  readonly write: (text: string) => void;
  readonly onStatus: (stream: ListenStream, status: StreamStatus) => void;
}

/** The per-connection decoding state of one stream. */
interface RawStreamState {
  decoder: TextDecoder;
  /** The last chunk ended in CR: whether it is part of CRLF is known only with the next byte. */
  hasPendingCR: boolean;
}

/** Creates the raw sink. */
export function createRawSink(options: RawSinkOptions): ListenSink {
  const states = new Map<ListenStream, RawStreamState>();
  const stateOf = (stream: ListenStream): RawStreamState => {
    let state = states.get(stream);
    if (state === undefined) {
      state = { decoder: new TextDecoder('utf-8'), hasPendingCR: false };
      states.set(stream, state);
    }
    return state;
  };
  return {
    showsEvents: false,
    onEvent: noop,
    onComment: noop,
    onChunk(stream, chunk) {
      const state = stateOf(stream);
      let text = (state.hasPendingCR ? '\r' : '') + state.decoder.decode(chunk, { stream: true });
      state.hasPendingCR = text.endsWith('\r');
      if (state.hasPendingCR) text = text.slice(0, -1);
      if (text !== '') options.write(escapeRaw(text));
    },
    onStatus(stream, status) {
      // A new connection is a new byte stream: what the old one left undecoded is shown as is.
      if (status.kind === 'connecting' || status.kind === 'closed' || status.kind === 'failed') flush(states, stream, options.write);
      options.onStatus(stream, status);
    },
  };
}

function flush(states: Map<ListenStream, RawStreamState>, stream: ListenStream, write: (text: string) => void): void {
  const state = states.get(stream);
  if (state === undefined) return;
  const rest = (state.hasPendingCR ? '\r' : '') + state.decoder.decode();
  states.delete(stream);
  if (rest !== '') write(escapeRaw(rest));
}

/** Escapes control characters, keeping CRLF line ends as they came. */
function escapeRaw(text: string): string {
  return text
    .split('\r\n')
    .map((part) => escapeControl(part))
    .join('\r\n');
}

function noop(): void {}
