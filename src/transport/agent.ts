/**
 * HTTP settings live here, and only here: the undici dispatcher every command's streams and
 * requests go through, and the connector bench's per-client sockets are built with. Streams run
 * with no body timeout (undici's default of 300 s between chunks would kill every quiet stream:
 * liveness is the stall watchdog's job) and TLS is always verified unless `--insecure` was asked
 * for. Over TLS, HTTP/2 is offered by ALPN (the server picks; `http1.1` offers only 1.1); over
 * cleartext `h2-prior-knowledge` speaks h2c without an upgrade, as curl's flag of that name.
 * Proxies: `proxy.ts` (which origin goes to which proxy) and `proxy-tunnel.ts` (the CONNECT
 * tunnel, for the Agent and the fleet alike).
 */
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { hasProxy, type ProxySettings } from './proxy.js';
import { createTunnelConnector } from './proxy-tunnel.js';

/** Which HTTP versions to speak: `negotiate` (ALPN h2 or 1.1 over TLS, 1.1 in cleartext), `http1.1`, or `h2-prior-knowledge` (h2c in cleartext, ALPN over TLS). */
export const HTTP_VERSIONS = ['negotiate', 'http1.1', 'h2-prior-knowledge'] as const;
export type HttpVersion = (typeof HTTP_VERSIONS)[number];

/** The HTTP flags every command shares, as the transport needs them. */
export interface HttpSettings {
  /** TCP/TLS connect timeout, and the wait for response headers, in ms (default 10 000). */
  readonly connectTimeoutMs?: number | undefined;
  /** Extra CA certificates (PEM) added to Node's defaults (`--cacert`). */
  readonly extraCaPem?: readonly string[] | undefined;
  /** Skip TLS verification (`--insecure`). */
  readonly isInsecure?: boolean | undefined;
  /** HTTP versions (default `negotiate`; `--http1.1`, `--http2-prior-knowledge`). */
  readonly httpVersion?: HttpVersion | undefined;
  /** HTTP(S)_PROXY / NO_PROXY as the CLI read them (default: no proxy). */
  readonly proxy?: ProxySettings | undefined;
}

/** Options for `createStreamAgent`. */
export interface StreamAgentOptions extends HttpSettings {
  /** How long an idle socket is kept for reuse, in ms (default 1 000: short, so closed streams
   * release their sockets quickly and socket counts settle). */
  readonly keepAliveTimeoutMs?: number | undefined;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The TLS, timeout and protocol part of a connector, the same for the Agent, a proxy tunnel and the fleet. */
function connectOptions(settings: HttpSettings): { timeout: number; allowH2: boolean; useH2c: boolean } & Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized'> {
  const extraCa = settings.extraCaPem ?? [];
  const version = settings.httpVersion ?? 'negotiate';
  return {
    timeout: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    allowH2: version !== 'http1.1',
    useH2c: version === 'h2-prior-knowledge',
    ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
    ...(settings.isInsecure === true ? { rejectUnauthorized: false } : {}),
  };
}

/**
 * Creates the shared dispatcher for a command: an Agent, whose connections go through a proxy
 * when one is set. Close it when the command ends (`withStreamAgent` does).
 */
export function createStreamAgent(options: StreamAgentOptions = {}): Dispatcher {
  const keepAliveMs = options.keepAliveTimeoutMs ?? 1_000;
  const connect = connectOptions(options);
  return new Agent({
    bodyTimeout: 0,
    headersTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAliveTimeout: keepAliveMs,
    keepAliveMaxTimeout: keepAliveMs,
    pipelining: 1,
    allowH2: connect.allowH2,
    // With a proxy, the fleet's connector: one rule (`proxyFor`, never loopback) and one CONNECT
    // tunnel for every command. undici's EnvHttpProxyAgent matched NO_PROXY by host name
    // (127.0.0.2 went to the proxy), and a proxy that closed the tunnel unanswered made its
    // client reconnect in a tight loop (a closed socket counts as recoverable there).
    connect: hasProxy(options.proxy) ? createFleetConnector(options) : connect,
  });
}

/**
 * The socket connector of bench's clients (one socket per client): the same TLS trust, connect
 * timeout, HTTP version and proxies as the Agent. With ALPN h2 or h2c the undici `Client` speaks
 * HTTP/2 on the socket it gets (it looks at `socket.alpnProtocol`); an origin `proxyFor` sends to
 * a proxy is reached through a CONNECT tunnel (proxy-tunnel.ts).
 */
export function createFleetConnector(settings: HttpSettings): buildConnector.connector {
  const options = connectOptions(settings);
  const direct = buildConnector(options);
  return hasProxy(settings.proxy) ? createTunnelConnector(direct, settings.proxy, { timeoutMs: options.timeout, useH2c: options.useH2c }) : direct;
}

/** Runs `use` with a command's dispatcher and destroys it afterwards, whatever happens. */
export async function withStreamAgent<T>(settings: StreamAgentOptions, use: (dispatcher: Dispatcher) => Promise<T>): Promise<T> {
  const agent = createStreamAgent(settings);
  try {
    return await use(agent);
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
