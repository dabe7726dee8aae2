/**
 * publish's watching streams: `listenersPerStream` connections to each watched URL, all opened
 * before the first event is sent (an event is expected only at watchers open when it was due).
 * A watcher that fails before every one is open fails the run; one that fails later only
 * misses events, which the tracker counts as lost.
 */
import { setMaxListeners } from 'node:events';
import type { Dispatcher } from 'undici';
import { ConnectError, type SsekitError } from '../core/errors.js';
import { KICK_WINDOW_MS } from '../metrics/diagnoses.js';
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
  /** One entry per watching connection (a stream watched by 3 listeners is listed 3 times, each with its own token). */
  readonly watch: readonly WatchedStream[];
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

/** What went wrong with a watcher after every one was open: it misses events from then on. */
export interface WatcherTrouble {
  /** The server ended its stream within `KICK_WINDOW_MS` of opening it, this many times. */
  readonly kicked: number;
  /** It failed for good (refused on reconnect, broke the protocol): the error's message. */
  readonly failure?: string | undefined;
}

/** The open watchers. */
export interface Watchers {
  readonly count: number;
  /** Per watcher that had trouble (index → what happened). */
  readonly troubles: ReadonlyMap<number, WatcherTrouble>;
  /** Resolves once every watcher is open; rejects with the first failure, on timeout, or on abort. */
  waitForAllOpen(timeoutMs: number, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Opens every watcher at once. */
export function openWatchers(options: WatchersOptions, handlers: WatcherHandlers): Watchers {
  const count = options.watch.length;
  const stop = new AbortController();
  // Every watcher listens on this signal: hundreds are expected, not a leak.
  setMaxListeners(0, stop.signal);
  const state: WatchersState = { openCount: 0, firstFailure: undefined, troubles: new Map() };
  const ends = options.watch.map((stream, watcher) => runWatcher(watcher, stream, options, handlers, state, count, stop.signal));
  return {
    count,
    troubles: state.troubles,
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

interface WatchersState {
  openCount: number;
  firstFailure: SsekitError | undefined;
  readonly troubles: Map<number, WatcherTrouble>;
}

function runWatcher(index: number, stream: WatchedStream, options: WatchersOptions, handlers: WatcherHandlers, state: WatchersState, count: number, signal: AbortSignal): Promise<SseConnectionEnd> {
  let isOpen = false;
  let openedAt = 0;
  const trouble = (change: (t: WatcherTrouble) => WatcherTrouble): void => void state.troubles.set(index, change(state.troubles.get(index) ?? { kicked: 0 }));
  const onStatus = (status: StreamStatus): void => {
    if (status.kind === 'open') {
      openedAt = performance.now();
      if (isOpen) return;
      isOpen = true;
      state.openCount += 1;
      handlers.onFirstOpen(index);
    } else if (status.kind === 'reconnecting') {
      if (status.reason === 'ended' && performance.now() - openedAt < KICK_WINDOW_MS) trouble((t) => ({ ...t, kicked: t.kicked + 1 }));
      handlers.onStatus?.(`watcher ${index + 1} reconnecting in ${Math.round(status.delayMs)} ms: ${status.detail}`);
    } else if (status.kind === 'failed') {
      // Before every watcher is open, a failure fails the run; after, the watcher misses events.
      if (state.openCount < count) state.firstFailure ??= status.error;
      else trouble((t) => ({ ...t, failure: status.error.message }));
    }
  };
  return runSseConnection(
    { url: stream.url, headers: options.headers, token: stream.token, maxEventBytes: options.maxEventBytes, dispatcher: options.dispatcher, maxRetries: 3 },
    { onEvent: (_type, data) => handlers.onData(index, data, performance.now()), onStatus },
    signal,
  );
}
