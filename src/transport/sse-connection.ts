/**
 * One logical SSE stream: open, read, parse, and reconnect as a browser's EventSource does
 * (with the last event ID), plus what a browser lacks: a request method and body (POST/REPORT
 * streams, resent on every reconnect), a byte cap, a stall watchdog, a retry limit, a restart on
 * request, backpressure from a slow consumer, and typed status transitions. It knows nothing
 * about terminals; `listen`, `publish` and `bench` drive it and decide what to show.
 *
 * The loop is a list of phases over one named state (`ConnectionRun`): attempt (open + pump),
 * decide (end for good, or reconnect and why), wait (the policy's delay, cut short by a restart).
 */
import type { Dispatcher } from 'undici';
import { ConnectError, ExitCode, HttpStatusError, SsekitError } from '../core/errors.js';
import { quoteServerText } from '../core/escape.js';
import { redactUrl } from '../core/redact.js';
import { sleep } from '../core/sleep.js';
import { createFrameParser, type FrameParser } from '../stream/parse-frames.js';
import type { TokenPlacement } from './auth.js';
import { decompressionCapFor, type ContentCoding } from './body-decoder.js';
import type { FlowGate } from './flow-gate.js';
import { describeStatus, isRetryable, NoContentError, openStream, reconnectDelayHeaderMs } from './open-stream.js';
import { pumpBody, type PumpOutcome } from './pump-body.js';
import { createReconnectPolicy, type DelaySource, type ReconnectPolicy } from './reconnect.js';
import type { RestartSignal } from './restart-trigger.js';

/** Everything one stream needs; built once by the command. */
export interface SseConnectionOptions {
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly token?: TokenPlacement | undefined;
  /** Request method (default GET). */
  readonly method?: string | undefined;
  /** Request body, resent on every reconnect (default none). */
  readonly body?: string | Uint8Array | undefined;
  /** `Content-Type` of the body unless `headers` has one. */
  readonly contentType?: string | undefined;
  /** `Last-Event-ID` for the first request (default none). */
  readonly lastEventId?: string | undefined;
  /** Cap on one line or one event's data, bytes (default 1 MiB); decoded bytes count. */
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
  /** A closed gate pauses the body after the chunk in hand (consumer backpressure). */
  readonly flow?: FlowGate | undefined;
  /** Each restart drops the connection and reconnects at once with the last event ID. */
  readonly restart?: RestartSignal | undefined;
  /** Random source for jitter (tests). */
  readonly random?: (() => number) | undefined;
}

/** Why the stream is reconnecting. */
export type ReconnectReason = 'ended' | 'stalled' | 'network' | 'status' | 'restart';

/** Status transitions, for printers and metrics. */
export type StreamStatus =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'open'; readonly status: number; readonly headersMs: number; readonly url: string }
  | { readonly kind: 'first-byte'; readonly firstByteMs: number }
  | { readonly kind: 'stalled'; readonly idleMs: number }
  | { readonly kind: 'reconnecting'; readonly delayMs: number; readonly attempt: number; readonly reason: ReconnectReason; readonly detail: string; readonly source: DelaySource | 'restart' }
  | { readonly kind: 'closed'; readonly reason: 'ended' | 'aborted' | 'no-content' }
  | { readonly kind: 'failed'; readonly error: SsekitError };

/** What the stream reports. `onEvent` is the hot path: scalars only. */
export interface SseConnectionHandlers {
  onEvent(type: string, data: string, lastEventId: string): void;
  onComment?(text: string): void;
  onStatus?(status: StreamStatus): void;
  /** Bytes received on the wire, per chunk (for counters; optional). */
  onBytes?(byteCount: number): void;
  /** The decoded body bytes, per chunk, before parsing (`listen --raw`). */
  onChunk?(chunk: Buffer): void;
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
    super('SSEKIT_SERVER_ERROR_EVENT', ExitCode.refused, `server sent event: error {"code":${quoteServerText(serverCode)}} and closed the stream: ${redactUrl(url)}`);
    this.serverCode = serverCode;
  }
}

/** The state of one logical stream across its connections. */
interface ConnectionRun {
  readonly options: SseConnectionOptions;
  readonly handlers: SseConnectionHandlers;
  readonly onStatus: (status: StreamStatus) => void;
  readonly policy: ReconnectPolicy;
  readonly parser: FrameParser;
  /** Consecutive attempts since the last successful open. */
  attempt: number;
  /** Set from inside the parser's callbacks; acted on after `feed` returns. */
  fatal: SsekitError | undefined;
  /** A restart was asked for: the current attempt or wait is cut short. */
  isRestartPending: boolean;
  /** Aborts the current attempt or wait (restart). */
  interrupt: AbortController | undefined;
}

/** What to do after an attempt: end for good, or reconnect (with the delay's floor). */
type Decision = { readonly end: SseConnectionEnd } | { readonly reason: ReconnectReason; readonly detail: string; readonly minimumMs?: number | undefined };

/**
 * Runs the stream until it ends for good or `signal` aborts. Never rejects: the end, with any
 * error, is the resolved value.
 */
export async function runSseConnection(options: SseConnectionOptions, handlers: SseConnectionHandlers, signal: AbortSignal): Promise<SseConnectionEnd> {
  const run = createRun(options, handlers);
  const unsubscribe = options.restart?.subscribe(() => {
    run.isRestartPending = true;
    run.interrupt?.abort();
  });
  try {
    for (;;) {
      if (signal.aborted) return endRun(run, 'aborted');
      const outcome = await attempt(run, signal);
      run.parser.end();
      if (signal.aborted) return endRun(run, 'aborted');
      const decision = decide(run, outcome);
      if ('end' in decision) return decision.end;
      if (!(await waitToReconnect(run, decision, signal))) return endRun(run, 'aborted');
    }
  } finally {
    unsubscribe?.();
  }
}

function createRun(options: SseConnectionOptions, handlers: SseConnectionHandlers): ConnectionRun {
  const policy = createReconnectPolicy({
    ...(options.retryInitialMs === undefined ? {} : { initialMs: options.retryInitialMs }),
    ...(options.retryMaxMs === undefined ? {} : { maxMs: options.retryMaxMs }),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
  const isErrorEventFatal = options.isErrorEventFatal ?? true;
  // The parser's callbacks run only from `feed`, after `run` exists.
  const parser = createFrameParser(
    {
      onEvent(type, data, lastEventId) {
        handlers.onEvent(type, data, lastEventId);
        if (isErrorEventFatal && type === 'error' && run.fatal === undefined) {
          const code = errorEventCode(data);
          if (code !== undefined) run.fatal = new ServerErrorEvent(code, options.url);
        }
      },
      ...(handlers.onComment === undefined ? {} : { onComment: handlers.onComment }),
      onRetry(ms) {
        policy.setServerRetry(ms);
      },
    },
    { maxEventBytes: options.maxEventBytes ?? 1024 * 1024, lastEventId: options.lastEventId ?? '' },
  );
  const run: ConnectionRun = { options, handlers, onStatus: handlers.onStatus ?? noop, policy, parser, attempt: 0, fatal: undefined, isRestartPending: false, interrupt: undefined };
  return run;
}

/** Phase 1: one connection, from request to the end of its body. */
async function attempt(run: ConnectionRun, signal: AbortSignal): Promise<PumpOutcome> {
  const { options, parser, policy } = run;
  run.attempt += 1;
  run.onStatus({ kind: 'connecting', attempt: run.attempt });
  const controller = linkedController(signal);
  run.interrupt = controller;
  const startedAt = performance.now();
  try {
    const opened = await openStream({ ...options, headers: options.headers ?? {}, lastEventId: parser.lastEventId, signal: controller.signal });
    policy.setHeaderDelay(reconnectDelayHeaderMs(opened.headers));
    policy.onOpen();
    run.attempt = 0;
    parser.reset();
    run.onStatus({ kind: 'open', status: opened.status, headersMs: performance.now() - startedAt, url: opened.url.href });
    return await pumpOpened(run, opened.body, opened.coding, controller.signal, startedAt);
  } catch (error) {
    return { kind: 'error', error };
  } finally {
    run.interrupt = undefined;
    controller.dispose();
  }
}

function pumpOpened(run: ConnectionRun, body: Dispatcher.ResponseData['body'], coding: ContentCoding, signal: AbortSignal, startedAt: number): Promise<PumpOutcome> {
  const { options, handlers, parser } = run;
  const maxEventBytes = options.maxEventBytes ?? 1024 * 1024;
  let isFirstChunk = true;
  return pumpBody({
    body,
    coding,
    maxDecodedBytesPerChunk: decompressionCapFor(maxEventBytes),
    heartbeatTimeoutMs: options.heartbeatTimeoutMs,
    flow: options.flow,
    signal,
    onWireBytes(byteCount) {
      if (isFirstChunk) {
        isFirstChunk = false;
        run.onStatus({ kind: 'first-byte', firstByteMs: performance.now() - startedAt });
      }
      handlers.onBytes?.(byteCount);
    },
    onDecoded(chunk) {
      handlers.onChunk?.(chunk);
      parser.feed(chunk);
      return run.fatal !== undefined;
    },
    onStalled: (idleMs) => run.onStatus({ kind: 'stalled', idleMs }),
  });
}

/** Phase 2: end for good, or reconnect and why (WHATWG: reconnect after a network error; 204 ends). */
function decide(run: ConnectionRun, outcome: PumpOutcome): Decision {
  const { options } = run;
  if (run.fatal !== undefined) return { end: endRun(run, 'failed', run.fatal) };
  if (run.isRestartPending) return { reason: 'restart', detail: 'restart requested' };
  if (outcome.kind === 'ended') {
    if (options.reconnect === false) return { end: endRun(run, 'ended') };
    return { reason: 'ended', detail: 'server closed the stream' };
  }
  const { error } = outcome;
  if (error instanceof NoContentError) return { end: endRun(run, 'no-content') };
  const typed = toSsekitError(error, options.url);
  if (!isRetryable(typed)) return { end: endRun(run, 'failed', typed) };
  const maxRetries = options.maxRetries ?? 5;
  // Retryable but not retried: the target is unavailable (exit 3), as after the last retry.
  if (options.reconnect === false) return { end: endRun(run, 'failed', giveUp(typed, 0)) };
  if (run.attempt > maxRetries) return { end: endRun(run, 'failed', giveUp(typed, maxRetries)) };
  const isStatus = typed instanceof HttpStatusError;
  return {
    reason: typed.code === 'SSEKIT_STALLED' ? 'stalled' : isStatus ? 'status' : 'network',
    detail: isStatus ? describeStatus(typed.status) : typed.message,
    minimumMs: isStatus ? typed.retryAfterMs : undefined,
  };
}

/** Phase 3: the delay before the next attempt; a restart skips it. False when `signal` aborted. */
async function waitToReconnect(run: ConnectionRun, decision: Exclude<Decision, { end: SseConnectionEnd }>, signal: AbortSignal): Promise<boolean> {
  if (run.isRestartPending) {
    run.isRestartPending = false;
    run.onStatus({ kind: 'reconnecting', delayMs: 0, attempt: run.attempt + 1, reason: 'restart', detail: decision.detail, source: 'restart' });
    return !signal.aborted;
  }
  const { delayMs, source } = run.policy.nextDelay(decision.minimumMs);
  run.onStatus({ kind: 'reconnecting', delayMs, attempt: run.attempt + 1, reason: decision.reason, detail: decision.detail, source });
  const controller = linkedController(signal);
  run.interrupt = controller;
  try {
    await sleep(delayMs, controller.signal);
  } finally {
    run.interrupt = undefined;
    controller.dispose();
  }
  if (run.isRestartPending) {
    run.isRestartPending = false;
    run.onStatus({ kind: 'reconnecting', delayMs: 0, attempt: run.attempt + 1, reason: 'restart', detail: 'restart requested', source: 'restart' });
  }
  return !signal.aborted;
}

function endRun(run: ConnectionRun, reason: SseConnectionEnd['reason'], error?: SsekitError): SseConnectionEnd {
  const lastEventId = run.parser.lastEventId;
  if (error !== undefined) {
    run.onStatus({ kind: 'failed', error });
    return { reason, error, lastEventId };
  }
  run.onStatus({ kind: 'closed', reason: reason === 'failed' ? 'ended' : reason });
  return { reason, lastEventId };
}

/** An AbortController that also aborts with `outer`; `dispose` unlinks it. */
function linkedController(outer: AbortSignal): AbortController & { dispose(): void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(outer.reason);
  if (outer.aborted) onAbort();
  else outer.addEventListener('abort', onAbort, { once: true });
  return Object.assign(controller, { dispose: () => outer.removeEventListener('abort', onAbort) });
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
