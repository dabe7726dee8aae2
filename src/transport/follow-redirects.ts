/**
 * GET with redirects followed by hand, so credentials never cross to another origin: the
 * `Authorization`, `Cookie` and `Proxy-Authorization` headers and the token (header or query
 * parameter) go only to the origin the user named. Shared by streams and stats reads.
 */
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import { HttpStatusError, ProtocolError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { applyToken, type TokenPlacement } from './auth.js';

/** A GET to make. */
export interface GetRequest {
  readonly url: URL;
  /** Extra headers; defaults such as `accept` come first and may be overridden. */
  readonly headers: Readonly<Record<string, string>>;
  readonly token?: TokenPlacement | undefined;
  readonly dispatcher: Dispatcher;
  readonly signal: AbortSignal;
  /** At most this many redirects (default 5). */
  readonly maxRedirects?: number | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/**
 * Resolves with the first non-redirect response and the URL that gave it. Network errors
 * reject as undici raised them (callers map them); a redirect without Location is an
 * `HttpStatusError`, too many redirects a `ProtocolError`.
 */
export async function getFollowingRedirects(req: GetRequest): Promise<{ response: Dispatcher.ResponseData; url: URL }> {
  const origin = req.url.origin;
  const maxRedirects = req.maxRedirects ?? 5;
  const show = (u: URL): string => redactUrl(u, req.token?.queryName === undefined ? [] : [req.token.queryName]);
  let url = req.url;
  for (let redirects = 0; ; redirects++) {
    const isSameOrigin = url.origin === origin;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      const lower = name.toLowerCase();
      if (!isSameOrigin && CREDENTIAL_HEADERS.has(lower)) continue;
      headers[lower] = value;
    }
    const withToken = applyToken(url, headers, req.token, origin);
    const response = await request(withToken.url, { method: 'GET', headers: withToken.headers, dispatcher: req.dispatcher, signal: req.signal });
    if (!REDIRECTS.has(response.statusCode)) return { response, url };
    const locationHeader = response.headers['location'];
    const location = Array.isArray(locationHeader) ? locationHeader[0] : locationHeader;
    discardBody(response.body);
    if (location === undefined) throw new HttpStatusError(response.statusCode, `server answered ${response.statusCode} without a Location header: GET ${show(url)}`);
    const next = new URL(location, url);
    if (redirects >= maxRedirects) throw new ProtocolError('SSEKIT_TOO_MANY_REDIRECTS', `more than ${maxRedirects} redirects, last to ${show(next)}`);
    url = next;
  }
}

/** Destroys a body we will not read; undici emits an abort error on destroy, which is expected. */
export function discardBody(body: Dispatcher.ResponseData['body']): void {
  body.on('error', ignore);
  body.destroy();
}

function ignore(): void {}
