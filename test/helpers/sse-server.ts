/**
 * A small scripted SSE server for tests: real sockets on 127.0.0.1:0, no transport mocks
 * (STYLE "Testing"). A spec is a handler, one scripted response, or one per request number
 * (the last repeats), so "first 503, then 200" is `[{ status: 503 }, { body: [...] }]`.
 * Hostile modes (huge line, one byte at a time, close mid-frame, silence, ...) are scripts or
 * the handler factories below. Teardown is registered with `onTestFinished` when started inside
 * a test; otherwise call `close()` yourself.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

/** One step of a scripted body: bytes to write, a pause, or an abrupt socket close. */
export type ScriptStep = string | Uint8Array | { readonly pauseMs: number } | { readonly destroy: true };

/** A scripted response. Defaults: 200, `text/event-stream`, body played then the response ended. */
export interface ScriptedResponse {
  readonly status?: number;
  /** Replaces the default headers when it has a content-type (use `content-type: ''` to send none). */
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly body?: string | Uint8Array | readonly ScriptStep[];
  /** After the body: `end` the response (default), `hold` it open until the client goes, or `destroy` the socket. */
  readonly then?: 'end' | 'hold' | 'destroy';
}

/** Facts about the request being answered. */
export interface RequestInfo {
  /** 1 for the first request this server received. */
  readonly requestNumber: number;
  readonly server: SseServer;
}

export type SseHandler = (req: IncomingMessage, res: ServerResponse, info: RequestInfo) => void | Promise<void>;
export type SseServerSpec = SseHandler | ScriptedResponse | readonly (SseHandler | ScriptedResponse)[];

/** What the server saw of one request. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query as sent, e.g. `/events?token=abc`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The request body as text, filled as it arrives (complete once the handler's response starts, for small bodies). */
  readonly body: string;
  /** `1.1`, or `2.0` for HTTP/2. */
  readonly httpVersion: string;
}

export interface SseServer {
  /** `http://127.0.0.1:<port>/events` (https with `tls`). */
  readonly url: string;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Responses still open (the client has not hung up and the script has not ended them). */
  readonly openResponses: () => number;
  /** Resolves once `count` requests have arrived; rejects with what was seen after `timeoutMs`. */
  readonly waitForRequests: (count: number, timeoutMs?: number) => Promise<void>;
  /** Resolves once no response is open (e.g. the client hung up). */
  readonly waitForIdle: (timeoutMs?: number) => Promise<void>;
  readonly close: () => Promise<void>;
}

export interface SseServerOptions {
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  /** The loopback address to listen on (default 127.0.0.1). */
  readonly host?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a server on 127.0.0.1:0 (or `options.host`) that answers every request per `spec`. */
export async function startSseServer(spec: SseServerSpec, options: SseServerOptions = {}): Promise<SseServer> {
  const requests: RecordedRequest[] = [];
  const open = new Set<ServerResponse>();
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of listeners) l();
  };
  let self: SseServer | undefined;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const record = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '', httpVersion: req.httpVersion };
    requests.push(record);
    const requestNumber = requests.length;
    open.add(res);
    const done = (): void => {
      if (open.delete(res)) notify();
    };
    res.on('close', done);
    res.on('finish', done);
    // Reading the body also keeps the request flowing, as resume() would.
    req.on('data', (chunk: Buffer) => {
      record.body += chunk.toString('utf8');
    });
    notify();
    const step = pickSpec(spec, requestNumber);
    const handler: SseHandler = typeof step === 'function' ? step : (_q, r) => playScript(r, step);
    Promise.resolve()
      .then(() => handler(req, res, { requestNumber, server: self as SseServer }))
      .catch(() => res.destroy());
  };

  const server: Server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, onRequest) : createServer(onRequest);
  server.keepAliveTimeout = 60_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `${options.tls ? 'https' : 'http'}://${host}:${port}`;

  let isClosed = false;
  const close = async (): Promise<void> => {
    if (isClosed) return;
    isClosed = true;
    for (const res of open) res.destroy();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };

  const waitFor = (isDone: () => boolean, what: () => string, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!isDone()) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`sse-server: timed out waiting for ${what()}`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });

  self = {
    url: `${origin}/events`,
    origin,
    port,
    requests,
    openResponses: () => open.size,
    waitForRequests: (count, timeoutMs = 10_000) =>
      waitFor(
        () => requests.length >= count,
        () => `${count} requests (saw ${requests.length}: ${requests.map((r) => r.url).join(', ')})`,
        timeoutMs,
      ),
    waitForIdle: (timeoutMs = 10_000) =>
      waitFor(
        () => open.size === 0,
        () => `no open responses (still ${open.size})`,
        timeoutMs,
      ),
    close,
  };
  try {
    onTestFinished(close);
  } catch {
    // Started outside a test (beforeAll): the caller closes it.
  }
  return self;
}

function pickSpec(spec: SseServerSpec, requestNumber: number): SseHandler | ScriptedResponse {
  if (typeof spec === 'function' || !Array.isArray(spec)) return spec as SseHandler | ScriptedResponse;
  const list = spec as readonly (SseHandler | ScriptedResponse)[];
  return list[Math.min(requestNumber, list.length) - 1] ?? {};
}

function isOpen(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded && !(res.socket?.destroyed ?? true);
}

/** Writes `chunk`, waiting for 'drain' under backpressure; false when the client has gone. */
export async function writeChunk(res: ServerResponse, chunk: string | Uint8Array): Promise<boolean> {
  if (!isOpen(res)) return false;
  const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
  if (res.write(bytes)) return true;
  return new Promise((resolve) => {
    const finish = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = (): void => finish(true);
    const onClose = (): void => finish(false);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Plays a scripted response on `res`. */
export async function playScript(res: ServerResponse, script: ScriptedResponse): Promise<void> {
  const status = script.status ?? 200;
  const headers: Record<string, string | number> = {};
  const given = script.headers ?? {};
  const hasType = Object.keys(given).some((k) => k.toLowerCase() === 'content-type');
  if (!hasType && status === 200) {
    headers['content-type'] = 'text/event-stream';
    headers['cache-control'] = 'no-cache';
  }
  for (const [k, v] of Object.entries(given)) if (!(k.toLowerCase() === 'content-type' && v === '')) headers[k] = v;
  res.writeHead(status, headers);
  res.flushHeaders();
  const body = script.body ?? [];
  const steps: readonly ScriptStep[] = typeof body === 'string' || body instanceof Uint8Array ? [body] : (body as readonly ScriptStep[]);
  for (const step of steps) {
    if (!isOpen(res)) return;
    if (typeof step === 'string' || step instanceof Uint8Array) {
      if (!(await writeChunk(res, step))) return;
    } else if ('pauseMs' in step) {
      await sleep(step.pauseMs);
    } else {
      await destroyAfterFlush(res);
      return;
    }
  }
  const then = script.then ?? 'end';
  if (then === 'end') res.end();
  else if (then === 'destroy') await destroyAfterFlush(res);
  // 'hold': leave it open; close() or the client ends it.
}

/** Closes the socket abruptly (no terminating chunk), but only once what was written left the process. */
async function destroyAfterFlush(res: ServerResponse): Promise<void> {
  const socket = res.socket;
  if (!socket) return;
  for (let i = 0; i < 200 && !socket.destroyed && socket.writableLength > 0; i += 1) await sleep(1);
  await sleep(5);
  socket.destroy();
}

/** Splits `text` (or bytes) into a script of one-byte writes with `pauseMs` between them. */
export function oneByteAtATime(input: string | Uint8Array, pauseMs = 1): ScriptStep[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  const steps: ScriptStep[] = [];
  for (let i = 0; i < bytes.length; i += 1) {
    if (i > 0) steps.push({ pauseMs });
    steps.push(bytes.subarray(i, i + 1));
  }
  return steps;
}

/** Interleaves chunks with pauses so that the client is likely to read them separately. */
export function chunked(chunks: readonly (string | Uint8Array)[], pauseMs = 25): ScriptStep[] {
  const steps: ScriptStep[] = [];
  chunks.forEach((c, i) => {
    if (i > 0) steps.push({ pauseMs });
    steps.push(c);
  });
  return steps;
}

/** A JSON error response such as 409 `{"code":"stream_limit"}`. */
export function jsonResponse(status: number, body: unknown, headers: Readonly<Record<string, string | number>> = {}): ScriptedResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** A redirect to `location`. */
export function redirect(location: string, status = 302): ScriptedResponse {
  return { status, headers: { location, 'content-type': 'text/plain' }, body: 'moved' };
}

/** A 200 event stream that sends its headers and then nothing at all, held open. */
export const silence: ScriptedResponse = { body: [], then: 'hold' };

/** Progress of a `hugeLine` handler, for asserting that the client hung up early. */
export interface HugeLineStats {
  bytesWritten: number;
  isFinished: boolean;
}

/**
 * A handler that streams `data: aaaa...` of `totalBytes` without any newline, in `chunkBytes`
 * writes under backpressure, stopping as soon as the client hangs up.
 */
export function hugeLine(totalBytes: number, chunkBytes = 64 * 1024): { handler: SseHandler; stats: HugeLineStats } {
  const stats: HugeLineStats = { bytesWritten: 0, isFinished: false };
  const chunk = Buffer.alloc(chunkBytes, 'a');
  const handler: SseHandler = async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    if (!(await writeChunk(res, 'data: '))) return;
    while (stats.bytesWritten < totalBytes) {
      const n = Math.min(chunkBytes, totalBytes - stats.bytesWritten);
      if (!(await writeChunk(res, n === chunkBytes ? chunk : chunk.subarray(0, n)))) return;
      stats.bytesWritten += n;
    }
    stats.isFinished = true;
    res.end();
  };
  return { handler, stats };
}

/** One SSE frame from fields (for readable scripts); `data` lines split on `\n`. */
export function frame(fields: { event?: string; id?: string; retry?: number; data?: string }): string {
  let out = '';
  if (fields.event !== undefined) out += `event: ${fields.event}\n`;
  if (fields.id !== undefined) out += `id: ${fields.id}\n`;
  if (fields.retry !== undefined) out += `retry: ${fields.retry}\n`;
  if (fields.data !== undefined) for (const line of fields.data.split('\n')) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** What the CONNECT proxy saw of one tunnel. */
export interface ProxiedTunnel {
  /** The `CONNECT` target, e.g. `sse.test:443`. */
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
}

export interface ConnectProxy {
  /** `http://127.0.0.1:<port>`, for HTTPS_PROXY / HTTP_PROXY. */
  readonly url: string;
  readonly tunnels: ProxiedTunnel[];
  readonly close: () => Promise<void>;
}

/**
 * A small HTTP CONNECT proxy on 127.0.0.1:0 (the way clients reach https, and undici reaches
 * http too, through a proxy). Every tunnel goes to `resolve(host, port)`, so tests can name a
 * target host that does not exist (`sse.test`): a request that arrives proves it went through
 * the proxy. `refuse` answers 403 instead, and `unanswered` gives no answer, for the error paths.
 */
export async function startConnectProxy(options: {
  resolve: (host: string, port: number) => { host: string; port: number };
  refuse?: boolean;
  /** `close`: hang up on a CONNECT without answering; `never`: keep it open, never answering. */
  unanswered?: 'close' | 'never';
}): Promise<ConnectProxy> {
  const { connect } = await import('node:net');
  const tunnels: ProxiedTunnel[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405, { 'content-type': 'text/plain' });
    res.end('CONNECT only');
  });
  server.on('connect', (req: IncomingMessage, client: import('node:net').Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    tunnels.push({ target: req.url ?? '', headers: req.headers });
    if (options.refuse === true) {
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (options.unanswered === 'close') {
      client.destroy();
      return;
    }
    if (options.unanswered === 'never') return;
    const [host = '', port = '0'] = (req.url ?? '').split(/:(?=\d+$)/);
    const to = options.resolve(host, Number(port));
    const upstream = connect(to.port, to.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  let isClosed = false;
  const close = async (): Promise<void> => {
    if (isClosed) return;
    isClosed = true;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  try {
    onTestFinished(close);
  } catch {
    // Started outside a test: the caller closes it.
  }
  return { url: `http://127.0.0.1:${port}`, tunnels, close };
}

/** Reads a request body to a string (POST/REPORT streams). */
export function readRequestBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/** A test CA and a server certificate it signed (PEM), made with openssl in a temporary folder. */
export interface TestCertificates {
  readonly caPem: string;
  /** The CA certificate's path, for `--cacert`. */
  readonly caFile: string;
  readonly key: string;
  readonly cert: string;
}

/**
 * Generates a CA and a server certificate for `127.0.0.1` and the given DNS names; undefined
 * when openssl is missing (callers skip with a reason). The folder is removed at exit.
 */
export async function makeTestCertificates(dnsNames: readonly string[] = []): Promise<TestCertificates | undefined> {
  const { execFileSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'ssekit-ca-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const at = (name: string): string => join(dir, name);
  const run = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  const san = ['IP:127.0.0.1', ...dnsNames.map((n) => `DNS:${n}`)].join(',');
  try {
    run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.pem'), '-days', '2', '-subj', '/CN=ssekit test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', at('server.key'), '-out', at('server.csr'), '-subj', '/CN=127.0.0.1']);
    writeFileSync(at('ext.cnf'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
    run(['x509', '-req', '-in', at('server.csr'), '-CA', at('ca.pem'), '-CAkey', at('ca.key'), '-CAcreateserial', '-out', at('server.pem'), '-days', '2', '-extfile', at('ext.cnf')]);
  } catch {
    return undefined;
  }
  return { caPem: readFileSync(at('ca.pem'), 'utf8'), caFile: at('ca.pem'), key: readFileSync(at('server.key'), 'utf8'), cert: readFileSync(at('server.pem'), 'utf8') };
}
