/**
 * The undici dispatcher every stream and request goes through. Streams run with no body
 * timeout (undici's default of 300 s between chunks would kill every quiet stream: liveness is
 * the stall watchdog's job) and TLS is always verified unless `--insecure` was asked for.
 */
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';

/** Options for `createStreamAgent`. */
export interface StreamAgentOptions {
  /** TCP/TLS connect timeout, and the wait for response headers, in ms (default 10 000). */
  readonly connectTimeoutMs?: number | undefined;
  /** Extra CA certificates (PEM) added to Node's defaults (`--cacert`). */
  readonly extraCaPem?: readonly string[] | undefined;
  /** Skip TLS verification (`--insecure`). */
  readonly isInsecure?: boolean | undefined;
  /** How long an idle socket is kept for reuse, in ms (default 1 000: short, so closed streams
   * release their sockets quickly and socket counts settle). */
  readonly keepAliveTimeoutMs?: number | undefined;
}

/** Creates the shared Agent for a command. Close it when the command ends. */
export function createStreamAgent(options: StreamAgentOptions = {}): Agent {
  const timeout = options.connectTimeoutMs ?? 10_000;
  const extraCa = options.extraCaPem ?? [];
  return new Agent({
    bodyTimeout: 0,
    headersTimeout: timeout,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 1_000,
    keepAliveMaxTimeout: options.keepAliveTimeoutMs ?? 1_000,
    pipelining: 1,
    connect: {
      timeout,
      ...(extraCa.length > 0 ? { ca: [...rootCertificates, ...extraCa] } : {}),
      ...(options.isInsecure ? { rejectUnauthorized: false } : {}),
    },
  });
}
