/**
 * One logical SSE stream: open, read, parse, and reconnect as a browser's EventSource does
 * (with the last event ID), plus what a browser lacks: a byte cap, a stall watchdog, a retry
 * limit and typed status transitions. It knows nothing about terminals; `listen`, `publish` and
 * `bench` drive it and decide what to show.
 */
import type { Dispatcher } from 'undici';
import { ConnectError, ExitCode, HttpStatusError, SsekitError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { sleep } from '../core/sleep.js';
import { createFrameParser } from '../stream/parse-frames.js';
import type { TokenPlacement } from './auth.js';
import { discardBody } from './follow-redirects.js';
import { describeStatus, isRetryable, NoContentError, openStream, reconnectDelayHeaderMs } from './open-stream.js';
import { createReconnectPolicy, type DelaySource } from './reconnect.js';

/** Everything one stream needs; built once by the command. */
export interface SseConnectionOptions {
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly token?: TokenPlacement | undefined;
  /** `Last-Event-ID` for the first request (default none). */
  readonly lastEventId?: string | undefined;
  /** Cap on one line or one event's data, bytes (default 1 MiB). */
  readonly maxEventBytes?: number | undefined;
  /** Reconnect after drops and retryable failures (default true). */
  readonly reconnect?: boolean | undefined;
  /** Consecutive failed attempts before giving up; reset by a successful open (default 5). */
  readonly maxRetries?: number | undefined;
  /** First backoff delay, ms (default 500). */
  readonly retryInitialMs?: number | undefined;
  /** Backoff cap, ms (default 30 000). */
  readonly retryMaxMs?: number | undefined;
  /** Stall watchdog: no byte for this long → reconnect (default off). */
  readonly heartbeatTimeoutMs?: number | undefined;
  /** `event: error` with a JSON `code` ends the stream as a refusal (CONTRACTS §5; default true). */
  readonly isErrorEventFatal?: boolean | undefined;
  readonly dispatcher: Dispatcher;
  /** Random source for jitter (tests). */
  readonly random?: (() => number) | undefined;
}

/** Why the stream is reconnecting. */
export type ReconnectReason = 'ended' | 'stalled' | 'network' | 'status';

/** Status transitions, for printers and metrics. */
export type StreamStatus =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'open'; readonly status: number; readonly headersMs: number; readonly url: string }
  | { readonly kind: 'first-byte'; readonly firstByteMs: number }
  | { readonly kind: 'stalled'; readonly idleMs: number }
  | { readonly kind: 'reconnecting'; readonly delayMs: number; readonly attempt: number; readonly reason: ReconnectReason; readonly detail: string; readonly source: DelaySource }
  | { readonly kind: 'closed'; readonly reason: 'ended' | 'aborted' | 'no-content' }
  | { readonly kind: 'failed'; readonly error: SsekitError };

/** What the stream reports. `onEvent` is the hot path: scalars only. */
export interface SseConnectionHandlers {
  onEvent(type: string, data: string, lastEventId: string): void;
  onComment?(text: string): void;
  onStatus?(status: StreamStatus): void;
  /** Bytes received, per chunk (for counters; optional). */
  onBytes?(byteCount: number): void;
}

/** How a stream ended for good. */
export interface SseConnectionEnd {
  readonly reason: 'ended' | 'aborted' | 'no-content' | 'failed';
  readonly error?: SsekitError;
  readonly lastEventId: string;
}

/** A stream refused by an `event: error` carrying a code (CONTRACTS §5 `{"code":"forbidden"}`). */
export class ServerErrorEvent extends SsekitError {
  readonly serverCode: string;
  constructor(serverCode: string, url: URL) {
    super('SSEKIT_SERVER_ERROR_EVENT', ExitCode.refused, `server sent event: error ${JSON.stringify({ code: serverCode })} and closed the stream: ${redactUrl(url)}`);
    this.serverCode = serverCode;
  }
}

/** The watchdog saw no byte in time. */
class StallError extends ConnectError {
  constructor(idleMs: number) {
    super(`no data for ${Math.round(idleMs)} ms`, { code: 'SSEKIT_STALLED' });
  }
}

/**
 * Runs the stream until it ends for good or `signal` aborts. Never rejects: the end, with any
 * error, is the resolved value.
 */
export async function runSseConnection(options: SseConnectionOptions, handlers: SseConnectionHandlers, signal: AbortSignal): Promise<SseConnectionEnd> {
  const reconnect = options.reconnect ?? true;
  const maxRetries = options.maxRetries ?? 5;
  const isErrorEventFatal = options.isErrorEventFatal ?? true;
  const policy = createReconnectPolicy({
    ...(options.retryInitialMs === undefined ? {} : { initialMs: options.retryInitialMs }),
    ...(options.retryMaxMs === undefined ? {} : { maxMs: options.retryMaxMs }),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  const onStatus = handlers.onStatus ?? noop;

  // Set from inside the parser's callbacks; acted on after `feed` returns.
  let fatal: SsekitError | undefined;
  const parser = createFrameParser(
    {
      onEvent(type, data, lastEventId) {
        handlers.onEvent(type, data, lastEventId);
        if (isErrorEventFatal && type === 'error' && fatal === undefined) {
          const code = errorEventCode(data);
          if (code !== undefined) fatal = new ServerErrorEvent(code, options.url);
        }
      },
      ...(handlers.onComment === undefined ? {} : { onComment: handlers.onComment }),
      onRetry(ms) {
        policy.setServerRetry(ms);
      },
    },
    { maxEventBytes: options.maxEventBytes ?? 1024 * 1024, lastEventId: options.lastEventId ?? '' },
  );

  const end = (reason: SseConnectionEnd['reason'], error?: SsekitError): SseConnectionEnd => {
    if (error !== undefined) onStatus({ kind: 'failed', error });
    else onStatus({ kind: 'closed', reason: reason === 'failed' ? 'ended' : reason });
    return error === undefined ? { reason, lastEventId: parser.lastEventId } : { reason, error, lastEventId: parser.lastEventId };
  };

  let attempt = 0;
  for (;;) {
    if (signal.aborted) return end('aborted');
    attempt += 1;
    onStatus({ kind: 'connecting', attempt });
    const attemptController = new AbortController();
    const onAbort = (): void => attemptController.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const startedAt = performance.now();
    let outcome: { kind: 'ended' } | { kind: 'error'; error: unknown };
    try {
      const opened = await openStream({
        url: options.url,
        headers: options.headers ?? {},
        token: options.token,
        lastEventId: parser.lastEventId,
        dispatcher: options.dispatcher,
        signal: attemptController.signal,
      });
      policy.setHeaderDelay(reconnectDelayHeaderMs(opened.headers));
      policy.onOpen();
      attempt = 0;
      parser.reset();
      onStatus({ kind: 'open', status: opened.status, headersMs: performance.now() - startedAt, url: opened.url.href });
      outcome = await pump(opened.body, startedAt);
    } catch (error) {
      outcome = { kind: 'error', error };
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    parser.end();
    if (signal.aborted) return end('aborted');
    if (fatal !== undefined) return end('failed', fatal);

    let reason: ReconnectReason;
    let detail: string;
    let minimumMs: number | undefined;
    if (outcome.kind === 'ended') {
      if (!reconnect) return end('ended');
      reason = 'ended';
      detail = 'server closed the stream';
    } else {
      const { error } = outcome;
      if (error instanceof NoContentError) return end('no-content');
      const typed = toSsekitError(error, options.url);
      if (!isRetryable(typed)) return end('failed', typed);
      // Retryable but not retried: the target is unavailable (exit 3), as after the last retry.
      if (!reconnect) return end('failed', giveUp(typed, 0));
      if (attempt > maxRetries) return end('failed', giveUp(typed, maxRetries));
      reason = typed.code === 'SSEKIT_STALLED' ? 'stalled' : typed instanceof HttpStatusError ? 'status' : 'network';
      detail = typed instanceof HttpStatusError ? describeStatus(typed.status) : typed.message;
      minimumMs = typed instanceof HttpStatusError ? typed.retryAfterMs : undefined;
    }
    const { delayMs, source } = policy.nextDelay(minimumMs);
    onStatus({ kind: 'reconnecting', delayMs, attempt: attempt + 1, reason, detail, source });
    if (!(await sleep(delayMs, signal))) return end('aborted');
  }

  /** Reads the body into the parser until it ends, errors, stalls or is too large. */
  function pump(body: Dispatcher.ResponseData['body'], startedAt: number): Promise<{ kind: 'ended' } | { kind: 'error'; error: unknown }> {
    return new Promise((resolve) => {
      let isDone = false;
      let isFirstChunk = true;
      let lastByteAt = performance.now();
      let watchdog: NodeJS.Timeout | undefined;
      const timeoutMs = options.heartbeatTimeoutMs;
      const finish = (result: { kind: 'ended' } | { kind: 'error'; error: unknown }): void => {
        if (isDone) return;
        isDone = true;
        if (watchdog !== undefined) clearTimeout(watchdog);
        body.off('data', onData);
        body.off('end', onEnd);
        body.off('error', onError);
        discardBody(body);
        resolve(result);
      };
      // One timer per stream, re-armed only when it fires (not on every chunk).
      const arm = (inMs: number): void => {
        watchdog = setTimeout(checkStall, inMs);
        watchdog.unref();
      };
      const checkStall = (): void => {
        const idleMs = performance.now() - lastByteAt;
        if (timeoutMs === undefined) return;
        if (idleMs >= timeoutMs) {
          onStatus({ kind: 'stalled', idleMs });
          finish({ kind: 'error', error: new StallError(idleMs) });
        } else arm(timeoutMs - idleMs);
      };
      const onData = (chunk: Buffer): void => {
        lastByteAt = performance.now();
        if (isFirstChunk) {
          isFirstChunk = false;
          onStatus({ kind: 'first-byte', firstByteMs: lastByteAt - startedAt });
        }
        handlers.onBytes?.(chunk.length);
        try {
          parser.feed(chunk);
        } catch (error) {
          finish({ kind: 'error', error });
          return;
        }
        if (fatal !== undefined) finish({ kind: 'ended' });
      };
      const onEnd = (): void => finish({ kind: 'ended' });
      const onError = (error: Error): void => finish({ kind: 'error', error });
      body.on('data', onData);
      body.on('end', onEnd);
      body.on('error', onError);
      if (timeoutMs !== undefined) arm(timeoutMs);
      if (signal.aborted) finish({ kind: 'ended' });
    });
  }
}

function toSsekitError(error: unknown, url: URL): SsekitError {
  if (error instanceof SsekitError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  // A body that breaks off mid-stream (reset, socket closed) is a network drop.
  return new ConnectError(`stream broke off${typeof code === 'string' ? ` (${code})` : ''}: ${redactUrl(url)}`, { code: 'SSEKIT_CONNECT', cause: error });
}

function giveUp(error: SsekitError, maxRetries: number): SsekitError {
  const when = maxRetries === 0 ? 'no reconnect' : `after ${maxRetries} ${maxRetries === 1 ? 'retry' : 'retries'}`;
  if (error instanceof HttpStatusError) {
    return new ConnectError(`${error.message} (${when})`, { code: 'SSEKIT_UNAVAILABLE', cause: error, hint: maxRetries === 0 ? 'the server is failing; try again later' : 'the server keeps failing; raise --max-retries to wait longer' });
  }
  return new ConnectError(`${error.message} (${when})`, { code: error.code, cause: error, hint: error.hint ?? 'is the server running? check the host and port' });
}

/** `{"code":"forbidden"}` → `forbidden`; undefined when the data carries no string code. */
function errorEventCode(data: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    if (parsed !== null && typeof parsed === 'object') {
      const code = (parsed as Record<string, unknown>)['code'];
      if (typeof code === 'string') return code;
    }
  } catch {
    // Plain-text error events are ordinary events.
  }
  return undefined;
}

function noop(): void {}
