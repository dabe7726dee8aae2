/**
 * `listen`'s engine: one reconnecting stream per URL, each event normalized, filtered and
 * handed to the sink; ends on a limit, when every stream has ended, or on abort.
 */
import { setMaxListeners } from 'node:events';
import type { Dispatcher } from 'undici';
import type { SsekitError } from '../core/errors.js';
import { createEventFilter } from '../stream/filter.js';
import { normalizeType, tryParseJson } from '../stream/normalize.js';
import type { TokenPlacement } from '../transport/auth.js';
import { runSseConnection, type SseConnectionEnd, type StreamStatus } from '../transport/sse-connection.js';

/** One stream to tail. */
export interface ListenStream {
  /** The URL as the user gave it (reported in `stream`). */
  readonly url: URL;
  readonly display: string;
  /** Short label shown when several streams are tailed. */
  readonly tag: string;
  readonly token?: TokenPlacement | undefined;
}

/** Options for `runListen`, built once by the CLI. */
export interface ListenOptions {
  readonly streams: readonly ListenStream[];
  readonly headers: Readonly<Record<string, string>>;
  readonly lastEventId?: string | undefined;
  readonly maxEventBytes: number;
  readonly reconnect: boolean;
  readonly maxRetries: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  readonly heartbeatTimeoutMs?: number | undefined;
  readonly eventGlobs: readonly string[];
  readonly grep?: string | undefined;
  /** Stop after this many shown events. */
  readonly maxEvents?: number | undefined;
  /** Stop after this long, ms. */
  readonly maxTimeMs?: number | undefined;
  /** Stop after the first event whose raw or normalized type is this. */
  readonly untilType?: string | undefined;
  /** Hide `ping`/`heartbeat` events (pretty output without `--heartbeats`). */
  readonly isHeartbeatHidden: boolean;
  readonly dispatcher: Dispatcher;
}

/** One event as a sink sees it. */
export interface ListenEvent {
  /** Receive time, ms since epoch. */
  readonly receivedAt: number;
  readonly stream: ListenStream;
  /** The type as dispatched (`message` by default). */
  readonly event: string;
  /** The normalized type (CONTRACTS §2). */
  readonly type: string;
  /** The last event ID ("" when none). */
  readonly id: string;
  readonly data: string;
  /** Parsed data, when it is JSON. */
  readonly json?: { readonly value: unknown } | undefined;
  /** A heartbeat event (`ping`, `heartbeat`). */
  readonly isHeartbeat: boolean;
}

/** Where listen's output goes (printers implement this; the engine never formats). */
export interface ListenSink {
  onEvent(event: ListenEvent): void;
  onComment(stream: ListenStream, text: string, receivedAt: number): void;
  onStatus(stream: ListenStream, status: StreamStatus): void;
}

/** How the run ended. */
export type ListenEndReason = 'streams-ended' | 'max-events' | 'max-time' | 'until' | 'interrupted';

/** The outcome; errors are per stream (one failing stream does not stop the others). */
export interface ListenResult {
  readonly endReason: ListenEndReason;
  readonly eventsShown: number;
  readonly errors: readonly { readonly stream: ListenStream; readonly error: SsekitError }[];
}

const HEARTBEAT_TYPES = new Set(['ping', 'heartbeat', 'keepalive']);

/** Tails every stream until a limit, the end of all streams, or `signal`. */
export async function runListen(options: ListenOptions, sink: ListenSink, signal: AbortSignal): Promise<ListenResult> {
  const filter = createEventFilter({ eventGlobs: options.eventGlobs, grep: options.grep });
  const stop = new AbortController();
  setMaxListeners(0, stop.signal);
  let endReason: ListenEndReason | undefined;
  const finish = (reason: ListenEndReason): void => {
    if (endReason !== undefined) return;
    endReason = reason;
    stop.abort();
  };
  const onOuterAbort = (): void => finish('interrupted');
  if (signal.aborted) onOuterAbort();
  signal.addEventListener('abort', onOuterAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  if (options.maxTimeMs !== undefined) timer = setTimeout(() => finish('max-time'), options.maxTimeMs);

  let eventsShown = 0;
  const errors: { stream: ListenStream; error: SsekitError }[] = [];

  const runOne = async (stream: ListenStream): Promise<SseConnectionEnd> => {
    const end = await runSseConnection(
      {
        url: stream.url,
        headers: options.headers,
        token: stream.token,
        lastEventId: options.lastEventId,
        maxEventBytes: options.maxEventBytes,
        reconnect: options.reconnect,
        maxRetries: options.maxRetries,
        retryInitialMs: options.retryInitialMs,
        retryMaxMs: options.retryMaxMs,
        heartbeatTimeoutMs: options.heartbeatTimeoutMs,
        dispatcher: options.dispatcher,
      },
      {
        onEvent(rawType, data, lastEventId) {
          if (endReason !== undefined) return;
          const type = normalizeType(rawType, data);
          const isHeartbeat = HEARTBEAT_TYPES.has(type);
          const isShown = !(isHeartbeat && options.isHeartbeatHidden) && filter(rawType, type, data);
          const isUntil = options.untilType !== undefined && (rawType === options.untilType || type === options.untilType);
          if (isShown) {
            const parsed = tryParseJson(data);
            sink.onEvent({ receivedAt: Date.now(), stream, event: rawType, type, id: lastEventId, data, json: parsed.ok ? { value: parsed.value } : undefined, isHeartbeat });
            eventsShown += 1;
            if (options.maxEvents !== undefined && eventsShown >= options.maxEvents) finish('max-events');
          }
          if (isUntil) finish('until');
        },
        onComment(text) {
          if (endReason === undefined) sink.onComment(stream, text, Date.now());
        },
        onStatus(status) {
          sink.onStatus(stream, status);
        },
      },
      stop.signal,
    );
    if (end.error !== undefined) errors.push({ stream, error: end.error });
    return end;
  };

  try {
    await Promise.all(options.streams.map(runOne));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal.removeEventListener('abort', onOuterAbort);
  }
  return { endReason: endReason ?? 'streams-ended', eventsShown, errors };
}
