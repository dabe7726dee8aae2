/**
 * A CONNECT tunnel through an HTTP proxy, as a socket connector: the command dispatcher's
 * (agent.ts) and bench's fleet's, whose clients each own one undici `Client`. The connector
 * opens the tunnel, then (for https) TLS with ALPN over it; the `Client` never knows. Which
 * requests go through which proxy is `proxyFor` (proxy.ts). A tunnel the proxy does not open
 * fails that connection attempt with a plain error, so undici does not retry it on its own.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { buildConnector } from 'undici';
import { proxyFor, type ProxySettings } from './proxy.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };
const MAX_PROXY_HEADER_BYTES = 16 * 1024;

/**
 * Wraps `direct` (a connector for direct connections, also used for TLS over the tunnel) so
 * that origins `proxyFor` sends to a proxy are reached through a CONNECT tunnel.
 */
export function createTunnelConnector(direct: buildConnector.connector, proxy: ProxySettings, options: { readonly timeoutMs: number; readonly useH2c: boolean }): buildConnector.connector {
  return (connectOptions, callback) => {
    const port = Number(connectOptions.port || DEFAULT_PORTS[connectOptions.protocol] || 80);
    const target = new URL(`${connectOptions.protocol}//${connectOptions.hostname}:${port}`);
    const proxyUrl = proxyFor(target, proxy);
    if (proxyUrl === undefined) {
      direct(connectOptions, callback);
      return;
    }
    openTunnel(new URL(proxyUrl), `${connectOptions.hostname}:${port}`, options.timeoutMs).then(
      (socket) => {
        if (connectOptions.protocol === 'https:') {
          direct({ ...connectOptions, httpSocket: socket }, callback);
          return;
        }
        // h2c over the tunnel: the Client speaks h2 on a socket whose ALPN says so.
        if (options.useH2c) (socket as Socket & { alpnProtocol?: string }).alpnProtocol = 'h2';
        callback(null, socket);
      },
      (error: Error) => callback(error, null),
    );
  };
}

/** Connects to the proxy, asks for `CONNECT authority`, and resolves with the tunnel's socket once it answers 200. */
function openTunnel(proxy: URL, authority: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const port = Number(proxy.port || DEFAULT_PORTS[proxy.protocol] || 80);
    const socket: Socket = proxy.protocol === 'https:' ? connectTls({ host: proxy.hostname, port, servername: proxy.hostname }) : connectTcp({ host: proxy.hostname, port });
    const fail = (error: Error): void => {
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error(`proxy ${proxy.host} did not open a tunnel in ${timeoutMs} ms`), { code: 'UND_ERR_CONNECT_TIMEOUT' })), timeoutMs);
    timer.unref();
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_PROXY_HEADER_BYTES) fail(new Error('proxy answered CONNECT with an oversized header'));
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (status !== 200) return fail(new Error(`Proxy response (${status}) !== 200 when HTTP Tunneling`));
      // Bytes after the proxy's header already belong to the tunnel.
      if (head.length > end + 4) socket.unshift(head.subarray(end + 4));
      resolve(socket);
    };
    const onError = (error: Error): void => {
      clearTimeout(timer);
      fail(error);
    };
    const onClose = (): void => onError(new Error(`proxy ${proxy.host} closed the connection without answering CONNECT`));
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once(proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => socket.write(connectRequest(proxy, authority)));
  });
}

/** The CONNECT request, with Basic proxy credentials from the proxy URL's userinfo. */
function connectRequest(proxy: URL, authority: string): string {
  const credentials = proxy.username === '' ? '' : `proxy-authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`;
  return `CONNECT ${authority} HTTP/1.1\r\nhost: ${authority}\r\n${credentials}\r\n`;
}
