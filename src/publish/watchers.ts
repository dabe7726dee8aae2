/**
 * publish's watching streams: `listenersPerStream` connections to each watched URL, all opened
 * before the first event is sent (an event is expected only at watchers open when it was due).
 * A watcher that fails before every one is open fails the run; one that fails later only
 * misses events, which the tracker counts as lost.
 */
import { setMaxListeners } from 'node:events';
import type { Dispatcher } from 'undici';
import { ConnectError, type SsekitError } from '../core/errors.js';
import { waitUntil } from '../core/sleep.js';
import type { TokenPlacement } from '../transport/auth.js';
import { runSseConnection, type SseConnectionEnd, type StreamStatus } from '../transport/sse-connection.js';

/** One watched stream. */
export interface WatchedStream {
  readonly url: URL;
  readonly display: string;
  readonly token?: TokenPlacement | undefined;
}

/** Options for `openWatchers`. */
export interface WatchersOptions {
  readonly watch: readonly WatchedStream[];
  readonly listenersPerStream: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly maxEventBytes: number;
  readonly dispatcher: Dispatcher;
}

/** What the watchers report; `onData` is per delivered event. */
export interface WatcherHandlers {
  onData(watcher: number, data: string, at: number): void;
  /** A watcher's first open: from now on it is expected to get every event. */
  onFirstOpen(watcher: number): void;
  onStatus?(text: string): void;
}

/** The open watchers. */
export interface Watchers {
  readonly count: number;
  /** Resolves once every watcher is open; rejects with the first failure, on timeout, or on abort. */
  waitForAllOpen(timeoutMs: number, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Opens every watcher at once. */
export function openWatchers(options: WatchersOptions, handlers: WatcherHandlers): Watchers {
  const count = options.watch.length * options.listenersPerStream;
  const stop = new AbortController();
  // Every watcher listens on this signal: hundreds are expected, not a leak.
  setMaxListeners(0, stop.signal);
  const state = { openCount: 0, firstFailure: undefined as SsekitError | undefined };
  const ends: Promise<SseConnectionEnd>[] = [];
  let watcher = 0;
  for (const stream of options.watch) {
    for (let k = 0; k < options.listenersPerStream; k++) ends.push(runWatcher(watcher++, stream, options, handlers, state, count, stop.signal));
  }
  return {
    count,
    async waitForAllOpen(timeoutMs, signal) {
      const isSettled = await waitUntil(() => state.openCount === count || state.firstFailure !== undefined, { timeoutMs, signal });
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      if (state.firstFailure !== undefined && state.openCount < count) throw state.firstFailure;
      if (!isSettled) throw new ConnectError(`only ${state.openCount} of ${count} watching streams opened within ${timeoutMs} ms`, { code: 'SSEKIT_WATCH_TIMEOUT' });
    },
    async close() {
      stop.abort();
      await Promise.all(ends);
    },
  };
}

function runWatcher(index: number, stream: WatchedStream, options: WatchersOptions, handlers: WatcherHandlers, state: { openCount: number; firstFailure: SsekitError | undefined }, count: number, signal: AbortSignal): Promise<SseConnectionEnd> {
  let isOpen = false;
  const onStatus = (status: StreamStatus): void => {
    if (status.kind === 'open' && !isOpen) {
      isOpen = true;
      state.openCount += 1;
      handlers.onFirstOpen(index);
    } else if (status.kind === 'reconnecting') handlers.onStatus?.(`watcher ${index + 1} reconnecting in ${Math.round(status.delayMs)} ms: ${status.detail}`);
    // Only a failure before every watcher is open fails the run.
    else if (status.kind === 'failed' && state.openCount < count) state.firstFailure ??= status.error;
  };
  return runSseConnection(
    { url: stream.url, headers: options.headers, token: stream.token, maxEventBytes: options.maxEventBytes, dispatcher: options.dispatcher, maxRetries: 3 },
    { onEvent: (_type, data) => handlers.onData(index, data, performance.now()), onStatus },
    signal,
  );
}
