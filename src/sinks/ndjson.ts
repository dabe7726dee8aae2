/**
 * `listen --json`: one JSON object per dispatched event per line, for pipes and jq. Fields:
 * time, stream, event, type, id, data, and json only when the data parses as JSON.
 */
import type { ListenEvent, ListenSink, ListenStream } from '../listen/run-listen.js';
import type { StreamStatus } from '../transport/sse-connection.js';

/** Creates the NDJSON sink; `writeStatus` receives status lines (stderr). */
export function createNdjsonSink(write: (text: string) => void, onStatus: (stream: ListenStream, status: StreamStatus) => void): ListenSink {
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
      write(`${JSON.stringify(record)}\n`);
    },
    onComment() {
      // Comments are not events; --json prints dispatched events only.
    },
    onStatus,
  };
}
