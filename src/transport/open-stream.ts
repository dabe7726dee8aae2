/**
 * Opens one SSE response: a GET (or the stream's method and body) with the SSE headers,
 * redirects followed by hand (so credentials never cross to another origin), status,
 * content-type and content-encoding checks. Returns the open body; every failure is a typed
 * error, and `isRetryable` says whether a reconnect may help. Server text that goes into an
 * error message (a Content-Type, an error body) is quoted and escaped (`quoteServerText`).
 */
import type { Dispatcher } from 'undici';
import { ConnectError, HttpStatusError, ProtocolError, SsekitError } from '../core/errors.js';
import { errorBodySummary, escapeControl, quoteServerText } from '../core/escape.js';
import { redactUrl } from '../core/redact.js';
import type { TokenPlacement } from './auth.js';
import { ACCEPT_ENCODING, contentCodingOf, createBodyDecoder, type ContentCoding } from './body-decoder.js';
import { discardBody, getFollowingRedirects, headerValue, type GetRequest } from './follow-redirects.js';

export { headerValue };

/** What to open: a request (see `getFollowingRedirects`) plus the stream's last event ID. */
export interface StreamRequest extends GetRequest {
  /** Sent as `Last-Event-ID` when not empty. */
  readonly lastEventId: string;
  /** `Content-Type` of `body`, unless a header sets one (default none). */
  readonly contentType?: string | undefined;
}

/** An open stream. */
export interface OpenedStream {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as received: still encoded when `coding` is not `identity` (see `createBodyDecoder`). */
  readonly body: Dispatcher.ResponseData['body'];
  /** The URL that answered (after redirects). */
  readonly url: URL;
  /** The body's Content-Encoding. */
  readonly coding: ContentCoding;
}

/**
 * The `Last-Event-ID` header value for an id: its UTF-8 bytes, one per header character (WHATWG
 * SSE: the id is sent "encoded as UTF-8"). Node and undici write header strings as Latin-1,
 * and refuse characters above U+00FF, so `€-日本-é` would kill every reconnect (issue 13).
 */
export function lastEventIdHeaderValue(lastEventId: string): string {
  return Buffer.from(lastEventId, 'utf8').toString('latin1');
}

/** The request headers of a stream: SSE defaults, the caller's headers, the body type, the last event ID. */
function streamRequestHeaders(req: Pick<StreamRequest, 'headers' | 'lastEventId' | 'body' | 'contentType'>): Record<string, string> {
  const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache', 'accept-encoding': ACCEPT_ENCODING };
  for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
  if (req.body !== undefined && req.contentType !== undefined && headers['content-type'] === undefined) headers['content-type'] = req.contentType;
  if (req.lastEventId !== '') headers['last-event-id'] = lastEventIdHeaderValue(req.lastEventId);
  return headers;
}

/** A response the stream should not reconnect after (204 No Content: WHATWG "fail the connection", no retry). */
export class NoContentError extends SsekitError {
  constructor(url: URL) {
    super('SSEKIT_NO_CONTENT', 0, `server answered 204 No Content: the stream is over (${redactUrl(url)})`);
  }
}

const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Opens the stream or throws a typed error (`ConnectError`, `HttpStatusError`, `ProtocolError`, `NoContentError`). */
export async function openStream(req: StreamRequest): Promise<OpenedStream> {
  const method = (req.method ?? 'GET').toUpperCase();
  let opened: Awaited<ReturnType<typeof getFollowingRedirects>>;
  try {
    opened = await getFollowingRedirects({ ...req, method, headers: streamRequestHeaders(req) });
  } catch (error) {
    throw connectErrorFor(error, req.url, req.token);
  }
  const { response, url } = opened;
  const { statusCode } = response;
  const contentType = headerValue(response.headers['content-type']);
  const where = `${method} ${show(url, req.token)}`;
  switch (classifyStreamResponse(statusCode, contentType)) {
    case 'open':
      return { status: statusCode, headers: response.headers, body: response.body, url, coding: codingOrDiscard(response) };
    case 'not-event-stream':
      discardBody(response.body);
      throw new ProtocolError('SSEKIT_NOT_EVENT_STREAM', `expected Content-Type text/event-stream, got ${contentType === undefined ? 'none' : quoteServerText(contentType, 100)}: ${where}`, {
        hint: 'is this the stream endpoint? an SSE endpoint answers with text/event-stream',
      });
    case 'no-content':
      discardBody(response.body);
      throw new NoContentError(url);
    case 'retry':
    case 'refused': {
      const body = await readSmallBody(response.body, codingOrDiscard(response));
      throw statusErrorFor({ status: statusCode, headers: response.headers, body, where, hasCredentials: opened.hasCredentials });
    }
  }
}

/** The response's coding; an unknown one discards the body and throws (`contentCodingOf`). */
function codingOrDiscard(response: Dispatcher.ResponseData): ContentCoding {
  try {
    return contentCodingOf(headerValue(response.headers['content-encoding']));
  } catch (error) {
    discardBody(response.body);
    throw error;
  }
}

/**
 * What a stream response means before its body is read (WHATWG: only a 200 with
 * `text/event-stream` opens; 204 ends the stream for good): `open`, `not-event-stream`
 * (protocol violation), `no-content`, `retry` (5xx, 408, 429: worth another attempt) or
 * `refused` (every other status: the server said no). `listen`, `publish` and the bench fleet
 * all sort responses with this.
 */
export type StreamResponseKind = 'open' | 'not-event-stream' | 'no-content' | 'retry' | 'refused';

/** Sorts a stream response by status and Content-Type (see `StreamResponseKind`). */
export function classifyStreamResponse(status: number, contentType: string | undefined): StreamResponseKind {
  if (status === 200) return isEventStreamType(contentType) ? 'open' : 'not-event-stream';
  if (status === 204) return 'no-content';
  return isRetryableStatus(status) ? 'retry' : 'refused';
}

/** `X-Reconnect-Delay` (ms, seed 000) of an open stream; undefined when absent or not digits. */
export function reconnectDelayHeaderMs(headers: Readonly<Record<string, string | string[] | undefined>>): number | undefined {
  const value = headerValue(headers['x-reconnect-delay'])?.trim();
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Whether a Content-Type is `text/event-stream` (parameters such as charset ignored). */
export function isEventStreamType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'text/event-stream';
}

/** Statuses worth retrying: 5xx, 408 and 429 (WHATWG retries network errors only; servers under load answer these). */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** Whether a failed attempt may succeed later (WHATWG reconnects on network errors; we add 5xx, 408 and 429). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ConnectError) return error.code !== 'SSEKIT_DNS' && error.code !== 'SSEKIT_TLS';
  if (error instanceof HttpStatusError) return isRetryableStatus(error.status);
  return false;
}

/** Seconds or an HTTP date in `Retry-After`, as ms; undefined when absent or unreadable. */
export function retryAfterMs(headers: Readonly<Record<string, string | string[] | undefined>>, nowMs = Date.now()): number | undefined {
  const value = headerValue(headers['retry-after']);
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}


function show(url: URL, token: TokenPlacement | undefined): string {
  return redactUrl(url, token?.queryName === undefined ? [] : [token.queryName]);
}

/** Up to 64 KiB of an error body, decoded, as text; whatever could be read if it breaks off. */
export async function readSmallBody(body: Dispatcher.ResponseData['body'], coding: ContentCoding): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  const decoded = new Promise<void>((resolve) => {
    const decoder = createBodyDecoder(coding, {
      maxBytes: MAX_ERROR_BODY_BYTES * 64,
      onData(chunk) {
        if (size < MAX_ERROR_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
      },
      onEnd: resolve,
      // A body that does not decode is still an error response; the status says enough.
      onError: () => resolve(),
    });
    void (async () => {
      try {
        for await (const chunk of body) {
          decoder.write(chunk as Buffer);
          if (size >= MAX_ERROR_BODY_BYTES) break;
        }
      } catch {
        // An error body that breaks off is still an error response; report what we have.
      } finally {
        discardBody(body);
        decoder.end();
      }
    })();
  });
  await decoded;
  return Buffer.concat(chunks).toString('utf8', 0, Math.min(size, MAX_ERROR_BODY_BYTES));
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** `503 Service Unavailable`, or just the number for unusual codes. */
export function describeStatus(status: number): string {
  const text = STATUS_TEXT[status];
  return text === undefined ? String(status) : `${status} ${text}`;
}

/** What `statusErrorFor` needs of a refused response. */
interface RefusedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  /** `GET http://…` (redacted). */
  readonly where: string;
  /** The request carried a token or a secret header. */
  readonly hasCredentials: boolean;
}

/** The typed error for a non-2xx stream response, quoting the body's `code`/`detail`/`message`/`error`. */
export function statusErrorFor(refused: RefusedResponse): HttpStatusError {
  const { status } = refused;
  // CONTRACTS §5: the gateway answers 409 {"code":"stream_limit"}; FastAPI {"detail": "..."}.
  const summary = errorBodySummary(refused.body);
  const serverCode = summary !== undefined && summary.length <= 200 ? summary : undefined;
  const quoted = summary === undefined ? '' : ` (${quoteServerText(summary)})`;
  const message = `server answered ${describeStatus(status)}${quoted}: ${refused.where}`;
  return new HttpStatusError(status, message, { serverCode, hint: statusHint(status, serverCode, refused.hasCredentials), retryAfterMs: retryAfterMs(refused.headers) });
}

const NO_TOKEN_HINT = "no token was sent: give --token, SSEKIT_TOKEN, --token-file or --jwt-secret (ssekit serve's dev secret is ssekit-dev-secret-change-me)";

function statusHint(status: number, serverCode: string | undefined, hasCredentials: boolean): string | undefined {
  // FastAPI's HTTPBearer answers 403 "Not authenticated" when no token came: not a role problem.
  if ((status === 401 || status === 403) && !hasCredentials) return NO_TOKEN_HINT;
  if (status === 401) return "check the token: --token, SSEKIT_TOKEN, --token-file, or mint one with --jwt-secret (ssekit serve's dev secret is ssekit-dev-secret-change-me)";
  if (status === 403) return 'the token was accepted but lacks the role or scope for this stream';
  if (status === 404) return 'check the stream path';
  if (status === 405) return 'the endpoint does not take this method: check --method';
  if (status === 409 && serverCode === 'stream_limit') return 'the server limits concurrent streams per user: close another stream or use another user';
  return undefined;
}

const RETRYABLE_NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const NET_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_SOCKET: 'socket closed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
};

/** Maps a network/TLS error from undici to a `ConnectError` (DNS and TLS errors are not retryable). */
export function connectErrorFor(error: unknown, url: URL, token?: TokenPlacement): SsekitError {
  if (error instanceof SsekitError) return error;
  const code = errorCode(error);
  const where = show(url, token);
  if (code === 'ENOTFOUND') {
    return new ConnectError(`cannot resolve ${url.hostname}: ${where}`, { code: 'SSEKIT_DNS', cause: error, hint: 'check the host name' });
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return new ConnectError(`TLS failed (${code}): ${where}`, { code: 'SSEKIT_TLS', cause: error, hint: 'the server does not seem to speak TLS on this port: try http:// instead of https://' });
  }
  if (code !== undefined && (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('ERR_SSL'))) {
    return new ConnectError(`TLS failed (${code}): ${where}`, { code: 'SSEKIT_TLS', cause: error, hint: 'add the server CA with --cacert <pem>, or --insecure for a throwaway test server' });
  }
  // An unknown error's message may quote what the server sent (an invalid header): escape it.
  const message = escapeControl(error instanceof Error ? error.message : String(error), false);
  // The tunnel's own errors (proxy-tunnel.ts) keep their words: "connect timed out" would hide the proxy.
  const isProxy = /\bproxy\b/i.test(message);
  const text = (isProxy || code === undefined ? undefined : NET_TEXT[code]) ?? message;
  const isKnown = code !== undefined && RETRYABLE_NET_CODES.has(code);
  // "Proxy response (403) !== 200 when HTTP Tunneling" (undici's words, kept by the tunnel).
  const hint = !isProxy ? undefined : /^Proxy response/.test(message) ? 'the proxy refused the tunnel: check HTTPS_PROXY / HTTP_PROXY, or add the host to NO_PROXY' : 'the proxy did not open the tunnel: check that HTTPS_PROXY / HTTP_PROXY is a proxy that answers CONNECT, or add the host to NO_PROXY';
  return new ConnectError(`cannot connect: ${text}: ${where}`, { code: isKnown ? 'SSEKIT_CONNECT' : 'SSEKIT_CONNECT_OTHER', cause: error, hint });
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
      // undici wraps socket errors; prefer the OS error underneath when there is one.
      const inner = (current as { cause?: { code?: unknown } }).cause?.code;
      return typeof inner === 'string' ? inner : code;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
