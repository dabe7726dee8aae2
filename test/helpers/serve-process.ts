/**
 * Helpers for `ssekit serve` tests: start the engine in process (closed at teardown), mint
 * tokens, open a raw SSE stream with node:http and parse it with eventsource-parser (not the
 * ssekit listen client, which is tested separately), and call producer endpoints.
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ClientRequest } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { SignJWT } from 'jose';
import { onTestFinished } from 'vitest';
import { DEV_JWT_SECRET, type SsekitClaims } from '../../src/core/dev-jwt.js';
import { startServer, type ServeHandle, type ServeOptions } from '../../src/serve/server.js';

/** Starts the backend on 127.0.0.1:0 without logs; closed when the test finishes. */
export async function startTestServer(options: ServeOptions = {}): Promise<ServeHandle> {
  const handle = await startServer({ host: '127.0.0.1', port: 0, ...options });
  onTestFinished(() => handle.close());
  return handle;
}

/** An HS256 token (dev secret by default). `expiresIn` is a jose time span such as '1h' or a past epoch. */
export async function mintToken(claims: SsekitClaims, options: { secret?: string; expiresAt?: number | string } = {}): Promise<string> {
  const jwt = new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt();
  jwt.setExpirationTime(options.expiresAt ?? '1h');
  return jwt.sign(new TextEncoder().encode(options.secret ?? DEV_JWT_SECRET));
}

/** Common test identities. */
export const TOKENS = {
  admin: () => mintToken({ sub: '1', role: 'admin', salon_id: 1, store_id: 1 }),
  customer: (sub = '501') => mintToken({ sub, role: 'customer' }),
  superadmin: () => mintToken({ sub: '0', role: 'superadmin' }),
  store: () => mintToken({ sub: '9', role: 'store', store_id: 1 }),
} as const;

/** One item seen on a stream: an event, or a comment. */
export type StreamItem = { readonly kind: 'event'; readonly event: EventSourceMessage } | { readonly kind: 'comment'; readonly text: string };

/** An open SSE response. */
export interface TestStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** Raw text received so far. */
  readonly text: () => string;
  readonly items: readonly StreamItem[];
  readonly events: () => EventSourceMessage[];
  /** Resolves with the first item (from the start) matching; rejects after `timeoutMs`. */
  readonly waitFor: (match: (item: StreamItem) => boolean, timeoutMs?: number, what?: string) => Promise<StreamItem>;
  /** Resolves with the `count`-th event matching (1-based), counting from the start. */
  readonly waitForEvent: (match: (event: EventSourceMessage) => boolean, timeoutMs?: number) => Promise<EventSourceMessage>;
  /** Resolves when the response ends: `clean` (terminator received) or `aborted` (socket cut). */
  readonly ended: Promise<'clean' | 'aborted'>;
  /** Closes the client side. */
  readonly close: () => void;
  /** The non-stream body (error answers), once ended. */
  readonly body: () => Promise<string>;
}

/**
 * GETs `url` as an SSE client (token as Bearer unless `query` is set), resolves once the
 * response head is in. Closed at teardown.
 */
export function openStream(url: string, options: { token?: string; headers?: Record<string, string> } = {}): Promise<TestStream> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...options.headers };
    if (options.token !== undefined) headers['Authorization'] = `Bearer ${options.token}`;
    const req: ClientRequest = httpRequest(url, { headers, agent: false });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      const items: StreamItem[] = [];
      const waiters = new Set<() => void>();
      const parser = createParser({
        onEvent: (event) => items.push({ kind: 'event', event }),
        onComment: (comment) => items.push({ kind: 'comment', text: comment }),
      });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        parser.feed(chunk);
        for (const waiter of waiters) waiter();
      });
      const ended = new Promise<'clean' | 'aborted'>((resolveEnd) => {
        res.on('end', () => resolveEnd('clean'));
        res.on('aborted', () => resolveEnd('aborted'));
        res.on('error', () => resolveEnd('aborted'));
        res.on('close', () => resolveEnd(res.complete ? 'clean' : 'aborted'));
      });
      void ended.then(() => {
        for (const waiter of waiters) waiter();
      });
      let isEnded = false;
      void ended.then(() => {
        isEnded = true;
      });
      const close = (): void => {
        req.destroy();
      };
      onTestFinished(close);
      const waitFor = (match: (item: StreamItem) => boolean, timeoutMs = 5000, what = 'a matching item'): Promise<StreamItem> =>
        new Promise((resolveWait, rejectWait) => {
          const check = (): boolean => {
            const found = items.find(match);
            if (found) {
              waiters.delete(onData);
              clearTimeout(timer);
              resolveWait(found);
              return true;
            }
            if (isEnded) {
              waiters.delete(onData);
              clearTimeout(timer);
              rejectWait(new Error(`stream ended before ${what}; received:\n${text}`));
              return true;
            }
            return false;
          };
          const onData = (): void => void check();
          const timer = setTimeout(() => {
            waiters.delete(onData);
            rejectWait(new Error(`timed out waiting for ${what}; received:\n${text}`));
          }, timeoutMs);
          waiters.add(onData);
          check();
        });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text: () => text,
        items,
        events: () => items.flatMap((item) => (item.kind === 'event' ? [item.event] : [])),
        waitFor,
        waitForEvent: async (match, timeoutMs) => {
          const item = await waitFor((candidate) => candidate.kind === 'event' && match(candidate.event), timeoutMs, 'a matching event');
          return (item as { event: EventSourceMessage }).event;
        },
        ended,
        close,
        body: async () => {
          await ended;
          return text;
        },
      });
    });
    req.end();
  });
}

/** A JSON request; returns status, parsed body (or text) and headers. */
export async function callJson(method: string, url: string, options: { token?: string; body?: unknown; rawBody?: string | Buffer; headers?: Record<string, string> } = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers['Authorization'] = `Bearer ${options.token}`;
  let body: string | Buffer | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['Content-Type'] ??= 'application/json';
  const response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (e.g. Prometheus text): keep the text.
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Polls `check` every 20 ms until it returns a truthy value; rejects after `timeoutMs`. */
export async function until<T>(check: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The value of one Prometheus sample (`name{labels}`), 0 when absent. */
export function metricValue(text: string, sample: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return 0;
}
