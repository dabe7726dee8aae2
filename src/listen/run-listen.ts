/**
 * `listen`'s engine: one reconnecting stream per URL, each event normalized, filtered and
 * handed to the sink; ends on a limit, when every stream has ended, on the first failure with
 * `isFailFast`, or on abort. A stream that fails ends only itself by default: the others go on,
 * and the CLI turns the collected errors into the exit code.
 *
 * Phases over one named state (`ListenRun`): attach the limits (abort, --max-time), tail every
 * stream, then the result as a pure function of the state.
 */
import { setMaxListeners } from 'node:events';
import type { SsekitError } from '../core/errors.js';
import { createEventFilter, type EventFilter } from '../stream/filter.js';
import { normalizeType, tryParseJson } from '../stream/normalize.js';
import type { TokenPlacement } from '../transport/auth.js';
import { runSseConnection, type SseConnectionHandlers, type SseConnectionOptions, type StreamStatus } from '../transport/sse-connection.js';

/** One stream to tail. */
export interface ListenStream {
  /** The URL as the user gave it (reported in `stream`). */
  readonly url: URL;
  readonly display: string;
  /** Short label shown when several streams are tailed. */
  readonly tag: string;
  readonly token?: TokenPlacement | undefined;
}

/** What every stream's connection shares, as `runSseConnection` takes it (method, body, flow, restart, ...). */
type SharedConnectionOptions = Pick<SseConnectionOptions, 'method' | 'body' | 'contentType' | 'lastEventId' | 'heartbeatTimeoutMs' | 'flow' | 'restart' | 'random' | 'dispatcher'>;

/** The connection settings listen always gives (the CLI has a default for each). */
type GivenConnectionOptions = { readonly [K in 'headers' | 'maxEventBytes' | 'reconnect' | 'maxRetries' | 'retryInitialMs' | 'retryMaxMs']-?: NonNullable<SseConnectionOptions[K]> };

/** Options for `runListen`, built once by the CLI. */
export interface ListenOptions extends SharedConnectionOptions, GivenConnectionOptions {
  readonly streams: readonly ListenStream[];
  readonly eventGlobs: readonly string[];
  readonly grep?: string | undefined;
  /** Stop after this many shown events (events that passed the filters). */
  readonly maxEvents?: number | undefined;
  /** Stop after this long, ms. */
  readonly maxTimeMs?: number | undefined;
  /** Stop after the first event that passed the filters whose raw or normalized type is this. */
  readonly untilType?: string | undefined;
  /** Hide `ping`/`heartbeat` events (pretty output without `--heartbeats`). */
  readonly isHeartbeatHidden: boolean;
  /** The first stream that fails for good stops every stream (`--fail-fast`; default: it ends only itself). */
  readonly isFailFast?: boolean | undefined;
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
  /** The stream's decoded bytes as received (`--raw`); only sinks that want them define it. */
  onChunk?(stream: ListenStream, chunk: Buffer): void;
  /** False for a sink that shows the bytes, not the events (`--raw`): events are then counted, never built. */
  readonly showsEvents?: false;
}

/** How the run ended. */
export type ListenEndReason = 'streams-ended' | 'max-events' | 'max-time' | 'until' | 'interrupted' | 'stream-failed';

/** The outcome; errors are per stream, in the order they happened. */
export interface ListenResult {
  readonly endReason: ListenEndReason;
  readonly eventsShown: number;
  readonly errors: readonly { readonly stream: ListenStream; readonly error: SsekitError }[];
}

const HEARTBEAT_TYPES = new Set(['ping', 'heartbeat', 'keepalive']);

/** The run's state: what every stream's callbacks read and change. */
interface ListenRun {
  readonly options: ListenOptions;
  readonly sink: ListenSink;
  readonly filter: EventFilter;
  /** Aborted when the run ends (a limit, fail-fast or the outer signal): every stream stops. */
  readonly stop: AbortController;
  endReason: ListenEndReason | undefined;
  eventsShown: number;
  readonly errors: { stream: ListenStream; error: SsekitError }[];
}

/** Tails every stream until a limit, the end of all streams, a fail-fast failure, or `signal`. */
export async function runListen(options: ListenOptions, sink: ListenSink, signal: AbortSignal): Promise<ListenResult> {
  const run: ListenRun = { options, sink, filter: createEventFilter({ eventGlobs: options.eventGlobs, grep: options.grep }), stop: new AbortController(), endReason: undefined, eventsShown: 0, errors: [] };
  setMaxListeners(0, run.stop.signal);
  const detach = attachLimits(run, signal);
  try {
    await Promise.all(options.streams.map((stream) => tailStream(run, stream)));
  } finally {
    detach();
  }
  return { endReason: run.endReason ?? 'streams-ended', eventsShown: run.eventsShown, errors: run.errors };
}

function finish(run: ListenRun, reason: ListenEndReason): void {
  if (run.endReason !== undefined) return;
  run.endReason = reason;
  run.stop.abort();
}

/** The outer signal and --max-time end the run; returns the cleanup. */
function attachLimits(run: ListenRun, signal: AbortSignal): () => void {
  const onOuterAbort = (): void => finish(run, 'interrupted');
  if (signal.aborted) onOuterAbort();
  signal.addEventListener('abort', onOuterAbort, { once: true });
  const timer = run.options.maxTimeMs === undefined ? undefined : setTimeout(() => finish(run, 'max-time'), run.options.maxTimeMs);
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    signal.removeEventListener('abort', onOuterAbort);
  };
}

/** One stream, from first connect to its end for good. */
async function tailStream(run: ListenRun, stream: ListenStream): Promise<void> {
  const { options, sink } = run;
  const handlers: SseConnectionHandlers = {
    onEvent: (rawType, data, lastEventId) => onStreamEvent(run, stream, rawType, data, lastEventId),
    onComment(text) {
      if (run.endReason === undefined) sink.onComment(stream, text, Date.now());
    },
    onStatus: (status) => sink.onStatus(stream, status),
    ...(sink.onChunk === undefined ? {} : { onChunk: (chunk: Buffer) => sink.onChunk?.(stream, chunk) }),
  };
  // Everything but listen's own fields is the connection's (SharedConnectionOptions, headers, limits).
  const { streams: _streams, eventGlobs: _globs, grep: _grep, maxEvents: _maxEvents, maxTimeMs: _maxTimeMs, untilType: _until, isHeartbeatHidden: _hidden, isFailFast: _failFast, ...connection } = options;
  const end = await runSseConnection(
    { ...connection, url: stream.url, token: stream.token },
    handlers,
    run.stop.signal,
  );
  if (end.error === undefined) return;
  run.errors.push({ stream, error: end.error });
  if (options.isFailFast === true) finish(run, 'stream-failed');
}

/**
 * An event: the filters first (`--event`, `--grep`); only an event that passed them is shown,
 * counts for `--max-events`, or can be `--until`'s event (issue 13: `--until` stopped on an
 * event `--grep` hid). A heartbeat hidden by pretty output still counts for `--until`, which
 * names its type on purpose.
 */
function onStreamEvent(run: ListenRun, stream: ListenStream, rawType: string, data: string, lastEventId: string): void {
  if (run.endReason !== undefined) return;
  const { options } = run;
  const type = normalizeType(rawType, data);
  if (!run.filter(rawType, type, data)) return;
  const isHeartbeat = HEARTBEAT_TYPES.has(type);
  if (!(isHeartbeat && options.isHeartbeatHidden)) {
    if (run.sink.showsEvents !== false) {
      const parsed = tryParseJson(data);
      run.sink.onEvent({ receivedAt: Date.now(), stream, event: rawType, type, id: lastEventId, data, json: parsed.ok ? { value: parsed.value } : undefined, isHeartbeat });
    }
    run.eventsShown += 1;
    if (options.maxEvents !== undefined && run.eventsShown >= options.maxEvents) finish(run, 'max-events');
  }
  if (options.untilType !== undefined && (rawType === options.untilType || type === options.untilType)) finish(run, 'until');
}
