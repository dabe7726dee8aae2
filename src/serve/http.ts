/**
 * Small HTTP helpers for the reference backend: JSON responses, bounded JSON bodies, and the
 * error type every handler throws. The router turns an HttpError into `{"error", "code"}`
 * with its status, so a bad request is a 4xx and never a crash (issue 3 "Bad requests").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request that must be answered with `status` and a JSON body `{error, code, ...extra}`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly extra: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
  constructor(status: number, code: string, message: string, options: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }
}

/** Writes a JSON response (no-op if the response already started, e.g. a stream). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/** Writes an HttpError as `{"error": message, "code": code, ...extra}`. */
export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: error.message, code: error.code, ...error.extra }, error.headers);
}

/**
 * Reads a JSON object body of at most `maxBytes` within `timeoutMs`. Over the limit → 413, too
 * slow → 408 (issue 14 point 2: a slow body must not hold the server); in both cases the rest is
 * not read and the connection is closed after the answer. Not JSON → 400, not an object → 400.
 */
export async function readJsonObject(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const text = (await readBody(req, maxBytes, timeoutMs)).toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'malformed_json', 'request body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'invalid_body', 'request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** The whole body, or a 413 / 408 HttpError; a client that hangs up rejects with its error. */
function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error: Error | undefined): void => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', settle);
      req.off('aborted', onAborted);
      if (error === undefined) resolve(Buffer.concat(chunks));
      else {
        // Stop reading: the answer goes out with `Connection: close`.
        req.pause();
        reject(error);
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) settle(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => settle(undefined);
    const onAborted = (): void => settle(new HttpError(499, 'client_closed', 'client closed the request'));
    const timer = setTimeout(() => settle(new HttpError(408, 'body_timeout', `request body not received within ${timeoutMs} ms`, { headers: { Connection: 'close' } })), timeoutMs);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', settle);
    req.on('aborted', onAborted);
  });
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'body_too_large', `request body is over ${maxBytes} bytes`, { headers: { Connection: 'close' } });
}

/** Field readers for producer bodies: each throws a 400 naming the field. */
export const field = {
  string(body: Record<string, unknown>, name: string, options: { optional?: boolean } = {}): string | undefined {
    const value = body[name];
    if (value === undefined || value === null) {
      if (options.optional) return undefined;
      throw new HttpError(400, 'invalid_field', `'${name}' is required`);
    }
    if (typeof value !== 'string') throw new HttpError(400, 'invalid_field', `'${name}' must be a string`);
    return value;
  },
  id(body: Record<string, unknown>, name: string, options: { optional?: boolean } = {}): string | number | undefined {
    const value = body[name];
    if (value === undefined || value === null) {
      if (options.optional) return undefined;
      throw new HttpError(400, 'invalid_field', `'${name}' is required`);
    }
    if ((typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && value !== '')) return value;
    throw new HttpError(400, 'invalid_field', `'${name}' must be a number or a non-empty string`);
  },
  positiveInt(body: Record<string, unknown>, name: string): number {
    const value = body[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new HttpError(400, 'invalid_field', `'${name}' must be a positive integer`);
    return value;
  },
};

/** The peer address, without the IPv4-mapped prefix. */
export function clientIp(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** Runs a broker call (publish, id counter); a broker failure becomes 503 `broker_unavailable`. */
export async function viaBroker<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new HttpError(503, 'broker_unavailable', `event broker unavailable: ${error instanceof Error ? error.message : String(error)}`);
  }
}
