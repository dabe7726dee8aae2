/**
 * HTTP settings live here, and only here: the undici dispatcher every command's streams and
 * requests go through, and the connector bench's per-client sockets are built with. Streams run
 * with no body timeout (undici's default of 300 s between chunks would kill every quiet stream:
 * liveness is the stall watchdog's job) and TLS is always verified unless `--insecure` was asked
 * for. Over TLS, HTTP/2 is offered by ALPN (the server picks; `http1.1` offers only 1.1); over
 * cleartext `h2-prior-knowledge` speaks h2c without an upgrade, as curl's flag of that name.
 * Proxies: see `proxy.ts` (the Agent) and `proxy-tunnel.ts` (the fleet's connector).
 */
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { Agent, buildConnector, Dispatcher, ProxyAgent } from 'undici';
import { hasProxy, proxyFor, type ProxySettings } from './proxy.js';
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
 * Creates the shared dispatcher for a command: an Agent, or a proxy-aware one when a proxy is
 * set. Close it when the command ends (`withStreamAgent` does).
 */
export function createStreamAgent(options: StreamAgentOptions = {}): Dispatcher {
  const keepAliveMs = options.keepAliveTimeoutMs ?? 1_000;
  const connect = connectOptions(options);
  const agentOptions = {
    bodyTimeout: 0,
    headersTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAliveTimeout: keepAliveMs,
    keepAliveMaxTimeout: keepAliveMs,
    pipelining: 1,
    allowH2: connect.allowH2,
    connect,
  };
  if (!hasProxy(options.proxy)) return new Agent(agentOptions);
  // Through a tunnel, the target's TLS (and ALPN) is `requestTls`; `connect` is for the proxy.
  return new ProxyRouter(options.proxy, new Agent(agentOptions), (uri) => new ProxyAgent({ ...agentOptions, uri, requestTls: connect }));
}

/**
 * Sends each request to its origin's proxy, or straight, by `proxyFor`: the rule bench's
 * connector follows too (undici's EnvHttpProxyAgent matches NO_PROXY by host name, so
 * 127.0.0.2 would have gone through the proxy). One ProxyAgent per proxy URL, made when first needed.
 */
class ProxyRouter extends Dispatcher {
  readonly #settings: ProxySettings;
  readonly #direct: Dispatcher;
  readonly #createProxyAgent: (uri: string) => Dispatcher;
  readonly #proxies = new Map<string, Dispatcher>();

  constructor(settings: ProxySettings, direct: Dispatcher, createProxyAgent: (uri: string) => Dispatcher) {
    super();
    this.#settings = settings;
    this.#direct = direct;
    this.#createProxyAgent = createProxyAgent;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const proxy = options.origin === undefined ? undefined : proxyFor(new URL(String(options.origin)), this.#settings);
    if (proxy === undefined) return this.#direct.dispatch(options, handler);
    let agent = this.#proxies.get(proxy);
    if (agent === undefined) {
      agent = this.#createProxyAgent(proxy);
      this.#proxies.set(proxy, agent);
    }
    return agent.dispatch(options, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = Promise.all([this.#direct, ...this.#proxies.values()].map((d) => d.close())).then(() => undefined);
    if (callback === undefined) return done;
    void done.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | void {
    const error = typeof first === 'function' ? null : (first ?? null);
    const callback = typeof first === 'function' ? first : second;
    const done = Promise.all([this.#direct, ...this.#proxies.values()].map((d) => d.destroy(error))).then(() => undefined);
    if (callback === undefined) return done;
    void done.then(callback, callback);
  }
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
