/**
 * One virtual client of the bench fleet: the hot path. Each client owns one undici `Client`
 * (one socket, so "abrupt" churn can reset exactly its socket and ssekit's own sockets can be
 * counted), dispatches with undici's handler API (no Readable stream per connection), and
 * feeds bytes straight into its frame parser, whose callbacks are this object's methods: no
 * closure, object or log line per event.
 */
import type { Socket } from 'node:net';
import { Client, type Dispatcher, buildConnector } from 'undici';
import { ProtocolError } from '../core/errors.js';
import { createFrameParser, type FrameParser } from '../stream/parse-frames.js';
import { contentCodingOf, createBodyDecoder, decompressionCapFor, type BodyDecoder, type ContentCoding } from '../transport/body-decoder.js';
import { classifyStreamResponse, connectErrorFor, describeStatus, headerValue, isEventStreamType, lastEventIdHeaderValue, reconnectDelayHeaderMs, type StreamResponseKind } from '../transport/open-stream.js';
import { clampServerDelay, createReconnectPolicy, type ReconnectPolicy } from '../transport/reconnect.js';
import { KICK_WINDOW_MS } from '../metrics/diagnoses.js';
import type { FleetCounters } from './fleet-counters.js';

/** How a connection was ended on purpose. */
export type CloseMode = 'graceful' | 'abrupt';

/** What every client of a fleet shares. */
export interface FleetContext {
  readonly origin: string;
  /** Source address of every socket (bench --workers: 127.0.0.2, 127.0.0.3, …); default the system's choice. */
  readonly localAddress?: string | undefined;
  /** `--connections N`: HTTP/2 connections the streams share (client i uses connection i mod N); default one socket per client. */
  readonly connections?: readonly Client[] | undefined;
  readonly connector: buildConnector.connector;
  readonly counters: FleetCounters;
  readonly maxEventBytes: number;
  readonly connectTimeoutMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** Receives event data for correlation: (client index, data, performance.now()). */
  readonly onData: (index: number, data: string, at: number) => void;
  /** Event types never correlated (e.g. a snapshot such as §4's `initial` that repeats old events). */
  readonly ignoredTypes?: ReadonlySet<string> | undefined;
  /** An unexpected error in the per-event path (a bug): the run stops and reports it. */
  readonly onBug: (error: unknown) => void;
  /** The client's stream opened / closed (tracker bookkeeping). */
  readonly onOpen: (index: number) => void;
  readonly onClose: (index: number) => void;
}

/** How a client asks for its stream: GET, or a method with a body (POST a prompt, read `data:` chunks). */
export interface StreamRequestSpec {
  readonly method: string;
  readonly body?: string | undefined;
}

const GET: StreamRequestSpec = { method: 'GET' };
/**
 * Reasons given to undici when ssekit itself ends a request: one instance each, not a new error
 * (with its stack) per client, since a churning or stopping fleet ends thousands at once.
 */
const STOPPED_BY_SSEKIT = new Error('stopped by ssekit');
const CLOSED_BY_SSEKIT = new Error('closed by ssekit');

/** Why a client is reconnecting (result `reconnects.byReason`). `kicked`: the server closed the stream within `KICK_WINDOW_MS` of opening it. */
export type ReconnectCause = 'server-closed' | 'kicked' | 'network' | 'status' | 'stalled' | 'churn-graceful' | 'churn-abrupt' | 'token-rotation';


const STATE_IDLE = 0;
const STATE_CONNECTING = 1;
const STATE_OPEN = 2;
const STATE_WAITING = 3;
const STATE_STOPPED = 4;

/** One SSE connection attempt's handler (one small object per attempt, not per event). */
class Attempt implements Dispatcher.DispatchHandler {
  readonly owner: BenchClient;
  controller: Dispatcher.DispatchController | undefined;
  isDone = false;
  constructor(owner: BenchClient) {
    this.owner = owner;
  }
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.isDone) controller.abort(new Error('closed'));
  }
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (this.isDone) return;
    this.owner.handleResponseStart(this, controller, statusCode, headers);
  }
  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.isDone) this.owner.handleData(this, chunk);
  }
  onResponseEnd(): void {
    if (!this.isDone) this.owner.handleEnd(this, undefined);
  }
  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (!this.isDone) this.owner.handleEnd(this, error);
  }
}

/** A virtual client. */
export class BenchClient {
  readonly index: number;
  readonly shared: FleetContext;
  /** Path with query, and headers (auth included); replaceable for token rotation. */
  path: string;
  headers: Record<string, string>;
  /** The stream request's method and body (default GET without one). */
  readonly request: StreamRequestSpec;
  state = STATE_IDLE;
  lastByteAt = 0;
  private readonly client: Client;
  private socket: Socket | undefined;
  private readonly parser: FrameParser;
  /** Created at the first reconnect: most clients of a run never need one (heap per stream). */
  private policy: ReconnectPolicy | undefined;
  /** `X-Reconnect-Delay` seen before any reconnect, handed to the policy when it is made. */
  private headerDelayMs: number | undefined;
  private attempt: Attempt | undefined;
  private startedAt = 0;
  private openedAt = 0;
  /** When the previous event of this connection arrived (0: none yet), for the gap between events. */
  private lastEventAt = 0;
  /** Undoes the stream's Content-Encoding; undefined for an identity stream (the common, fast case). */
  private decoder: BodyDecoder | undefined;
  /** Open, or down on purpose (churn): what the fleet's uptime counts. */
  private isUp = false;
  private isChurning = false;
  private isAwaitingFirstEvent = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The connection is the fleet's (one of `--connections`): closing the stream must not close it. */
  private readonly isSharedConnection: boolean;

  constructor(index: number, shared: FleetContext, path: string, headers: Record<string, string>, request: StreamRequestSpec = GET) {
    this.index = index;
    this.shared = shared;
    this.path = path;
    this.headers = headers;
    this.request = request;
    this.parser = createFrameParser(this, { maxEventBytes: shared.maxEventBytes });
    // `--connections N`: the fleet's streams share N HTTP/2 connections, as a browser's tabs do.
    const sharedClient = shared.connections?.[index < 0 ? 0 : index % shared.connections.length];
    if (sharedClient !== undefined) {
      this.client = sharedClient;
      this.isSharedConnection = true;
      return;
    }
    this.isSharedConnection = false;
    const connector = shared.connector;
    this.client = new Client(shared.origin, {
      // Workers each use their own loopback source address: one address gets ~28,000 ports per destination.
      ...(shared.localAddress === undefined ? {} : { localAddress: shared.localAddress }),
      bodyTimeout: 0,
      headersTimeout: shared.connectTimeoutMs,
      keepAliveTimeout: 1,
      pipelining: 1,
      connect: (options, callback) =>
        connector(options, (...args) => {
          if (args[0] === null) this.socket = args[1] as Socket;
          callback(...args);
        }),
    });
    this.client.on('connectionError', noop);
  }

  /** Opens the stream (first connect, or after a churn close). */
  start(): void {
    if (this.state === STATE_STOPPED || this.state === STATE_CONNECTING || this.state === STATE_OPEN) return;
    this.clearRetry();
    if (this.isChurning) {
      this.isChurning = false;
      this.setUp(false, performance.now());
    }
    this.state = STATE_CONNECTING;
    const attempt = new Attempt(this);
    this.attempt = attempt;
    this.startedAt = performance.now();
    this.isAwaitingFirstEvent = true;
    const headers = this.headers;
    const lastEventId = this.parser.lastEventId;
    const request = this.request;
    this.client.dispatch(
      {
        path: this.path,
        method: request.method as Dispatcher.HttpMethod,
        // WHATWG SSE: the id goes out as its UTF-8 bytes (undici would refuse a non-Latin-1 one).
        headers: lastEventId === '' ? headers : { ...headers, 'last-event-id': lastEventIdHeaderValue(lastEventId) },
        // A POST stream's body (an LLM-style prompt) is sent again on every reconnect.
        ...(request.body === undefined ? {} : { body: request.body }),
      },
      attempt,
    );
  }

  handleResponseStart(attempt: Attempt, controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    const counters = this.shared.counters;
    counters.countStatus(statusCode);
    let kind = classifyStreamResponse(statusCode, headerValue(headers['content-type']));
    let coding: ContentCoding = 'identity';
    if (kind === 'open') {
      try {
        coding = contentCodingOf(headerValue(headers['content-encoding']));
      } catch {
        // A coding ssekit did not offer: the stream cannot be read.
        kind = 'not-event-stream';
      }
    }
    if (kind !== 'open') {
      attempt.isDone = true;
      controller.abort(new Error('rejected'));
      this.refused(kind, statusCode, headers);
      return;
    }
    const now = performance.now();
    this.lastByteAt = now;
    if (this.openedAt === 0 && this.index >= 0) counters.clientsEverOpened += 1;
    this.openedAt = now;
    counters.connectHeaders.recordMs(now - this.startedAt);
    counters.opens += 1;
    this.setUp(true, now);
    const hintMs = reconnectDelayHeaderMs(headers);
    if (hintMs !== undefined) {
      if (this.policy === undefined) this.headerDelayMs = hintMs;
      else this.policy.setHeaderDelay(hintMs);
    }
    this.policy?.onOpen();
    this.parser.reset();
    this.lastEventAt = 0;
    this.state = STATE_OPEN;
    this.shared.onOpen(this.index);
    if (coding !== 'identity') this.decoder = this.createDecoder(attempt, coding);
  }

  /** A compressed stream: decoded incrementally, capped on decoded bytes (a bomb is a protocol error). */
  private createDecoder(attempt: Attempt, coding: ContentCoding): BodyDecoder {
    return createBodyDecoder(coding, {
      maxBytes: decompressionCapFor(this.shared.maxEventBytes),
      onData: (decoded) => {
        if (this.attempt === attempt && !attempt.isDone) this.feed(attempt, decoded);
      },
      onError: () => {
        if (this.attempt !== attempt || attempt.isDone) return;
        attempt.isDone = true;
        attempt.controller?.abort(new Error('bad compressed body'));
        this.connectionClosed();
        this.shared.counters.countError('protocol', 'a compressed body that does not decode (or inflates past the cap)');
        this.scheduleReconnect('network');
      },
    });
  }

  /** A response that did not open the stream: retry a failing server, stop for a refusal. */
  private refused(kind: Exclude<StreamResponseKind, 'open'>, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    const counters = this.shared.counters;
    if (kind === 'retry') {
      counters.countError('status-5xx', describeStatus(statusCode));
      this.scheduleReconnect('status');
      return;
    }
    // 204, 401, 403, 404, 409 …: the server said no, and retrying would hammer it; a wrong
    // content type is a protocol violation.
    if (kind === 'not-event-stream') counters.countError('protocol', statusCode === 200 && isEventStreamType(headerValue(headers['content-type'])) ? `Content-Encoding ${headerValue(headers['content-encoding']) ?? ''}, which ssekit did not offer` : `Content-Type ${headerValue(headers['content-type']) ?? 'none'}, not text/event-stream`);
    else counters.countError(kind === 'no-content' ? 'status-204' : 'status-4xx', describeStatus(statusCode));
    counters.refusedClients += 1;
    void this.stop();
  }

  handleData(attempt: Attempt, chunk: Buffer): void {
    this.lastByteAt = performance.now();
    this.shared.counters.bytesReceived += chunk.length;
    if (this.decoder === undefined) this.feed(attempt, chunk);
    else this.decoder.write(chunk);
  }

  /** Bytes of the event stream (decoded, if it was compressed) into the parser. */
  private feed(attempt: Attempt, chunk: Buffer): void {
    try {
      this.parser.feed(chunk);
    } catch (error) {
      // Only the parser's cap is expected here; anything else is a bug and must surface (a
      // throw would only reach undici, which would call it a reset).
      const isCap = error instanceof ProtocolError;
      attempt.isDone = true;
      attempt.controller?.abort(new Error(isCap ? 'event too large' : 'internal error'));
      this.connectionClosed();
      if (!isCap) {
        this.shared.onBug(error);
        return;
      }
      this.shared.counters.countError('too-large');
      this.scheduleReconnect('network');
    }
  }

  /** Frame parser callback (hot path). */
  onEvent(type: string, data: string): void {
    const counters = this.shared.counters;
    counters.eventsReceived += 1;
    // The events of a chunk arrived with it: its receive time, read once per chunk.
    const at = this.lastByteAt;
    if (this.isAwaitingFirstEvent) {
      this.isAwaitingFirstEvent = false;
      counters.connectFirstEvent.recordMs(at - this.startedAt);
    } else counters.interEvent.recordMs(at - this.lastEventAt);
    this.lastEventAt = at;
    if (this.shared.ignoredTypes !== undefined && this.shared.ignoredTypes.has(type)) return;
    this.shared.onData(this.index, data, at);
  }

  /** Frame parser callback: the server's reconnection time. */
  onRetry(ms: number): void {
    this.ensurePolicy().setServerRetry(clampServerDelay(ms));
  }

  handleEnd(attempt: Attempt, error: Error | undefined): void {
    attempt.isDone = true;
    if (this.attempt !== attempt) return;
    const wasOpen = this.state === STATE_OPEN;
    const isKicked = wasOpen && performance.now() - this.openedAt < KICK_WINDOW_MS;
    this.connectionClosed();
    if (this.state === STATE_STOPPED) return;
    if (error !== undefined) {
      const kind = wasOpen ? 'reset' : 'connect';
      // The example message is built once per kind, not on every error of a reconnect storm.
      this.shared.counters.countError(kind, this.shared.counters.errorExamples.has(kind) ? undefined : connectErrorFor(error, new URL(this.path, this.shared.origin)).message);
    }
    this.scheduleReconnect(isKicked ? 'kicked' : error === undefined ? 'server-closed' : 'network');
  }

  /** The watchdog saw no byte in time. */
  stall(): void {
    if (this.state !== STATE_OPEN) return;
    this.shared.counters.countError('stalled');
    this.closeConnection('graceful');
    this.scheduleReconnect('stalled');
  }

  /** Churn: drop the connection (FIN, or RST for `abrupt`) and reconnect after `delayMs`. */
  churn(mode: CloseMode | 'token-rotation', delayMs: number, newHeaders?: Record<string, string>): void {
    if (this.state !== STATE_OPEN) return;
    // Down on purpose: the fleet still counts it as up until it reconnects.
    this.isChurning = true;
    this.closeConnection(mode === 'abrupt' ? 'abrupt' : 'graceful');
    if (newHeaders !== undefined) this.headers = newHeaders;
    const cause: ReconnectCause = mode === 'abrupt' ? 'churn-abrupt' : mode === 'token-rotation' ? 'token-rotation' : 'churn-graceful';
    this.shared.counters.countReconnect(cause);
    this.state = STATE_WAITING;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, delayMs);
    this.retryTimer.unref();
  }

  /** Stops for good (end of run), closing the socket. */
  async stop(): Promise<void> {
    this.clearRetry();
    this.isChurning = false;
    if (this.state === STATE_OPEN || this.state === STATE_CONNECTING) {
      if (this.isSharedConnection) this.closeConnection('graceful');
      else {
        // The client's destroy below ends the request and its socket in one step; aborting the
        // request first would build a second chain of errors (with stacks) per client, which at
        // 19,000 clients is most of a second of a Ctrl-C.
        if (this.attempt !== undefined) this.attempt.isDone = true;
        this.connectionClosed();
      }
    }
    this.setUp(false, performance.now());
    this.state = STATE_STOPPED;
    if (!this.isSharedConnection) await this.client.destroy(STOPPED_BY_SSEKIT).catch(noop);
  }

  /** Whether the stream is open. */
  get isOpen(): boolean {
    return this.state === STATE_OPEN;
  }

  private closeConnection(mode: CloseMode): void {
    const attempt = this.attempt;
    if (attempt !== undefined && !attempt.isDone) {
      attempt.isDone = true;
      const socket = this.socket;
      // An RST, not a FIN: what a crashed browser tab or a dropped mobile link looks like. On a
      // shared HTTP/2 connection the abort below is the stream's own reset (RST_STREAM).
      if (mode === 'abrupt' && !this.isSharedConnection && socket !== undefined && !socket.destroyed && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      attempt.controller?.abort(CLOSED_BY_SSEKIT);
    }
    this.connectionClosed();
  }

  private connectionClosed(): void {
    if (this.decoder !== undefined) {
      this.decoder.destroy();
      this.decoder = undefined;
    }
    if (this.state === STATE_OPEN) this.shared.onClose(this.index);
    if (!this.isChurning) this.setUp(false, performance.now());
    if (this.state === STATE_OPEN || this.state === STATE_CONNECTING) this.state = STATE_WAITING;
    this.parser.end();
  }

  private scheduleReconnect(cause: ReconnectCause): void {
    if (this.state === STATE_STOPPED) return;
    this.state = STATE_WAITING;
    this.shared.counters.countReconnect(cause);
    const { delayMs } = this.ensurePolicy().nextDelay();
    this.clearRetry();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.start();
    }, delayMs);
    this.retryTimer.unref();
  }

  /** Side streams (index -1) are extra connections of a user already counted: they do not count. */
  private setUp(isUp: boolean, now: number): void {
    if (this.isUp === isUp || this.index < 0) return;
    this.isUp = isUp;
    this.shared.counters.uptime.change(isUp ? 1 : -1, now);
  }

  private ensurePolicy(): ReconnectPolicy {
    if (this.policy === undefined) {
      this.policy = createReconnectPolicy({ initialMs: this.shared.retryInitialMs, maxMs: this.shared.retryMaxMs });
      if (this.headerDelayMs !== undefined) this.policy.setHeaderDelay(this.headerDelayMs);
    }
    return this.policy;
  }

  private clearRetry(): void {
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }
}

function noop(): void {}
