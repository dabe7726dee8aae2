/**
 * HTTP settings live here, and only here: the undici Agent every command's streams and requests
 * go through, and the connector bench's per-client sockets are built with. Streams run with no
 * body timeout (undici's default of 300 s between chunks would kill every quiet stream: liveness
 * is the stall watchdog's job) and TLS is always verified unless `--insecure` was asked for.
 */
import { rootCertificates, type ConnectionOptions } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';

/** The HTTP flags every command shares, as the transport needs them. */
export interface HttpSettings {
  /** TCP/TLS connect timeout, and the wait for response headers, in ms (default 10 000). */
  readonly connectTimeoutMs?: number | undefined;
  /** Extra CA certificates (PEM) added to Node's defaults (`--cacert`). */
  readonly extraCaPem?: readonly string[] | undefined;
  /** Skip TLS verification (`--insecure`). */
  readonly isInsecure?: boolean | undefined;
}

/** Options for `createStreamAgent`. */
export interface StreamAgentOptions extends HttpSettings {
  /** How long an idle socket is kept for reuse, in ms (default 1 000: short, so closed streams
   * release their sockets quickly and socket counts settle). */
  readonly keepAliveTimeoutMs?: number | undefined;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The TLS and timeout part of a connector, the same for the Agent and the fleet. */
function connectOptions(settings: HttpSettings): { timeout: number } & Pick<ConnectionOptions, 'ca' | 'rejectUnauthorized'> {
  const extraCa = settings.extraCaPem ?? [];
  return {
    timeout: settings.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
    ...(settings.isInsecure === true ? { rejectUnauthorized: false } : {}),
  };
}

/** Creates the shared Agent for a command. Close it when the command ends (`withStreamAgent` does). */
export function createStreamAgent(options: StreamAgentOptions = {}): Agent {
  const keepAliveMs = options.keepAliveTimeoutMs ?? 1_000;
  return new Agent({
    bodyTimeout: 0,
    headersTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAliveTimeout: keepAliveMs,
    keepAliveMaxTimeout: keepAliveMs,
    pipelining: 1,
    connect: connectOptions(options),
  });
}

/** The socket connector of bench's clients (one socket per client): the same TLS trust and connect timeout as the Agent. */
export function createFleetConnector(settings: HttpSettings): buildConnector.connector {
  return buildConnector(connectOptions(settings));
}

/** Runs `use` with a command's Agent and destroys it afterwards, whatever happens. */
export async function withStreamAgent<T>(settings: StreamAgentOptions, use: (dispatcher: Dispatcher) => Promise<T>): Promise<T> {
  const agent = createStreamAgent(settings);
  try {
    return await use(agent);
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}
