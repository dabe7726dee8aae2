/**
 * A Node `http2` server for tests: TLS with a test CA (HTTP/1.1 allowed beside h2, unless
 * `h2Only`), or cleartext h2c; its sessions are destroyed at teardown so `close` returns.
 */
import { createSecureServer, createServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';
import type { TestCertificates } from './sse-server.js';

/** A running h2 server. */
export interface Http2TestServer {
  /** `https://127.0.0.1:<port>` (or `http://` for h2c). */
  readonly origin: string;
  /** HTTP/2 sessions (connections) opened so far. */
  readonly sessionCount: () => number;
}

/** Starts it on 127.0.0.1:0; closed when the test finishes. */
export async function startHttp2Server(options: { readonly tls?: TestCertificates | undefined; readonly h2Only?: boolean }, onRequest: (req: Http2ServerRequest, res: Http2ServerResponse) => void): Promise<Http2TestServer> {
  const { tls } = options;
  const server = tls === undefined ? createServer(onRequest) : createSecureServer({ key: tls.key, cert: tls.cert, allowHTTP1: options.h2Only !== true }, onRequest);
  const sessions = new Set<{ destroy(): void }>();
  let count = 0;
  server.on('session', (session) => {
    count += 1;
    sessions.add(session);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { origin: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`, sessionCount: () => count };
}
