/**
 * `listen --json`: one JSON object per line, for pipes and jq. An event has time, stream, event,
 * type, id, data, and json only when the data parses as JSON; with `--heartbeats` each comment
 * is its own line, `{"time","stream","comment"}`, in order with the events. DEL, C1 controls and
 * U+2028/2029, which JSON.stringify leaves raw, are written as `\u` escapes (same JSON value).
 */
import { escapeJsonText } from '../core/escape.js';
import type { ListenEvent, ListenSink, ListenStream } from '../listen/run-listen.js';
import type { StreamStatus } from '../transport/sse-connection.js';

/** Options for the NDJSON sink. */
export interface NdjsonSinkOptions {
  readonly write: (text: string) => void;
  /** Status transitions (the CLI writes them to stderr). */
  readonly onStatus: (stream: ListenStream, status: StreamStatus) => void;
  /** Print comments as records (`--heartbeats`). */
  readonly showComments: boolean;
}

/** Creates the NDJSON sink. */
export function createNdjsonSink(options: NdjsonSinkOptions): ListenSink {
  const { write } = options;
  return {
    onEvent(event: ListenEvent) {
      const record: Record<string, unknown> = {
        time: new Date(event.receivedAt).toISOString(),
        stream: event.stream.display,
        event: event.event,
        type: event.type,
        id: event.id,
        data: event.data,
      };
      if (event.json !== undefined) record['json'] = event.json.value;
      write(`${escapeJsonText(JSON.stringify(record))}\n`);
    },
    onComment(stream, text, receivedAt) {
      if (!options.showComments) return;
      write(`${escapeJsonText(JSON.stringify({ time: new Date(receivedAt).toISOString(), stream: stream.display, comment: text }))}\n`);
    },
    onStatus: options.onStatus,
  };
}
