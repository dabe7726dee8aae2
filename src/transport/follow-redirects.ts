/**
 * Requests with redirects followed by hand, so credentials never cross to another origin: every
 * header that redaction treats as a secret (`Authorization`, `Cookie`, `X-Api-Key` and friends:
 * `isSecretHeaderName`) and the token (header or query parameter) go only to the origin the user
 * named. Method and body follow the Fetch standard's redirect rules. Shared by streams and stats
 * reads.
 */
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import { ProtocolError } from '../core/errors.js';
import { quoteServerText } from '../core/escape.js';
import { isSecretHeaderName, redactUrl } from '../core/redact.js';
import { applyToken, type TokenPlacement } from './auth.js';

/** A request to make (a GET unless `method` says otherwise). */
export interface GetRequest {
  readonly url: URL;
  /** Extra headers; defaults such as `accept` come first and may be overridden. */
  readonly headers: Readonly<Record<string, string>>;
  readonly token?: TokenPlacement | undefined;
  readonly dispatcher: Dispatcher;
  readonly signal: AbortSignal;
  /** At most this many redirects (default 5). */
  readonly maxRedirects?: number | undefined;
  /** Request method (default GET), e.g. POST or REPORT for streams that take a body. */
  readonly method?: string | undefined;
  /** Request body, sent again on every request (redirects the Fetch rules keep it on, reconnects). */
  readonly body?: string | Uint8Array | undefined;
}

/** The first non-redirect response, the URL that gave it, and whether that request carried credentials. */
export interface FollowedResponse {
  readonly response: Dispatcher.ResponseData;
  readonly url: URL;
  /** The answering request carried the token or a secret header (for the "no token was sent" hint). */
  readonly hasCredentials: boolean;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Fetch: when a redirect turns the request into a GET, these describe a body that is gone.
const BODY_HEADERS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location', 'content-length']);

/** One hop's request. */
interface Hop {
  url: URL;
  method: string;
  body: string | Uint8Array | undefined;
}

/**
 * Resolves with the first non-redirect response. Network errors reject as undici raised them
 * (callers map them); a redirect without a usable Location, or too many redirects, is a
 * `ProtocolError` (exit 5), at once: retrying the same URL would only loop.
 */
export async function getFollowingRedirects(req: GetRequest): Promise<FollowedResponse> {
  const origin = req.url.origin;
  const maxRedirects = req.maxRedirects ?? 5;
  const show = (u: URL): string => redactUrl(u, req.token?.queryName === undefined ? [] : [req.token.queryName]);
  let hop: Hop = { url: req.url, method: (req.method ?? 'GET').toUpperCase(), body: req.body };
  for (let redirects = 0; ; redirects++) {
    const headers = hopHeaders(req.headers, hop, hop.url.origin === origin);
    const withToken = applyToken(hop.url, headers, req.token, origin);
    const hasCredentials = (req.token !== undefined && hop.url.origin === origin) || Object.keys(withToken.headers).some(isSecretHeaderName);
    const response = await request(withToken.url, { method: hop.method as Dispatcher.HttpMethod, headers: withToken.headers, body: hop.body ?? null, dispatcher: req.dispatcher, signal: req.signal });
    if (!REDIRECTS.has(response.statusCode)) return { response, url: hop.url, hasCredentials };
    discardBody(response.body);
    const next = redirectTarget(response, hop.url, show);
    if (redirects >= maxRedirects) throw new ProtocolError('SSEKIT_TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects, last to ${show(next)}`);
    hop = { url: next, ...redirectedMethod(response.statusCode, hop) };
  }
}

/** The headers of one hop: no secrets off the named origin, no body headers once the body is gone. */
function hopHeaders(given: Readonly<Record<string, string>>, hop: Hop, isSameOrigin: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    const lower = name.toLowerCase();
    if (!isSameOrigin && isSecretHeaderName(lower)) continue;
    if (hop.body === undefined && BODY_HEADERS.has(lower)) continue;
    headers[lower] = value;
  }
  return headers;
}

/** The Location to follow; a missing, empty or unparsable one fails at once (WHATWG fetch: a network error). */
function redirectTarget(response: Dispatcher.ResponseData, from: URL, show: (u: URL) => string): URL {
  const location = headerValue(response.headers['location'])?.trim();
  const where = `${response.statusCode} ${location === undefined ? 'without a Location header' : location === '' ? 'with an empty Location header' : `to ${quoteServerText(location, 100)}`}: ${show(from)}`;
  if (location === undefined || location === '') {
    throw new ProtocolError('SSEKIT_BAD_REDIRECT', `server redirected ${where}`, { hint: 'a redirect must say where to go; the server is misconfigured' });
  }
  try {
    return new URL(location, from);
  } catch {
    throw new ProtocolError('SSEKIT_BAD_REDIRECT', `server redirected ${where}, which is not a URL`);
  }
}

/**
 * Fetch "HTTP-redirect fetch": 303 turns anything but GET/HEAD into a body-less GET, and so do
 * 301/302 for POST (what browsers have always done); 307/308 keep the method and the body.
 */
function redirectedMethod(status: number, hop: Hop): Pick<Hop, 'method' | 'body'> {
  const isToGet = (status === 303 && hop.method !== 'GET' && hop.method !== 'HEAD') || ((status === 301 || status === 302) && hop.method === 'POST');
  return isToGet ? { method: 'GET', body: undefined } : { method: hop.method, body: hop.body };
}

/** Destroys a body we will not read; undici emits an abort error on destroy, which is expected. */
export function discardBody(body: Dispatcher.ResponseData['body']): void {
  body.on('error', ignore);
  body.destroy();
}

function ignore(): void {}

/** The first value of a header. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
