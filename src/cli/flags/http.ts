/**
 * Shared HTTP flags: extra headers, TLS trust, connect timeout, HTTP version. With the proxy
 * variables of the environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) they build the undici
 * dispatcher (transport/agent.ts).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { redactUrl } from '../../core/redact.js';
import type { HttpSettings, HttpVersion } from '../../transport/agent.js';
import { hasProxy, proxySettingsFromEnv, type ProxySettings } from '../../transport/proxy.js';

/** The raw flag values. */
export interface HttpFlags {
  readonly header?: readonly string[];
  readonly cacert?: string;
  readonly insecure?: boolean;
  readonly connectTimeout?: string;
  readonly 'http1.1'?: boolean;
  readonly http2PriorKnowledge?: boolean;
}

/** What `resolveHttpFlags` gives: the headers, and the settings the dispatcher is built with. */
export interface ResolvedHttp extends HttpSettings {
  readonly headers: Record<string, string>;
  readonly extraCaPem: string[];
  readonly isInsecure: boolean;
  readonly connectTimeoutMs: number;
  readonly httpVersion: HttpVersion;
}

/** Collects a repeatable flag. */
export function collect(value: string, previous: readonly string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds the HTTP flags to a command. */
export function addHttpFlags(command: Command): Command {
  return command
    .option('-H, --header <header>', "extra request header 'Name: value' (repeatable)", collect)
    .option('--cacert <pem-file>', 'trust this CA certificate as well as the system ones')
    .option('--insecure', 'do not verify TLS certificates (throwaway test servers only)')
    .option('--connect-timeout <duration>', 'time allowed to connect and receive response headers', '10s')
    .option('--http1.1', 'speak HTTP/1.1 only (by default HTTP/2 is offered over TLS, by ALPN)')
    .option('--http2-prior-knowledge', 'speak HTTP/2 without negotiation: h2c over http://, h2 over https://');
}

/** Parses `-H` values (or another header flag's, named by `what`) into a header record; `UsageError` for a malformed one. */
export function parseHeaders(values: readonly string[] | undefined, what = '-H'): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const value of values ?? []) {
    const colon = value.indexOf(':');
    const name = colon > 0 ? value.slice(0, colon).trim() : '';
    if (name === '' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw new UsageError(`${what}: '${value.length > 60 ? `${value.slice(0, 60)}…` : value}' is not 'Name: value'`);
    }
    headers[name.toLowerCase()] = value.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Reads `--cacert`, the timeout, the HTTP version and the proxy variables of `env` (the CLI
 * context's environment: HTTPS_PROXY, HTTP_PROXY, NO_PROXY, also in lower case) into the
 * dispatcher's settings.
 */
export async function resolveHttpFlags(flags: HttpFlags, env: Readonly<Record<string, string | undefined>> = {}): Promise<ResolvedHttp> {
  let extraCaPem: string[] = [];
  if (flags.cacert !== undefined) {
    try {
      extraCaPem = [await readFile(flags.cacert, 'utf8')];
    } catch (error) {
      throw new UsageError(`--cacert: cannot read ${flags.cacert}`, { cause: error });
    }
  }
  if (flags['http1.1'] === true && flags.http2PriorKnowledge === true) throw new UsageError('give either --http1.1 or --http2-prior-knowledge, not both');
  const proxy = checkedProxy(proxySettingsFromEnv(env));
  return {
    headers: parseHeaders(flags.header),
    extraCaPem,
    isInsecure: flags.insecure === true,
    connectTimeoutMs: parseDuration(flags.connectTimeout ?? '10s', '--connect-timeout'),
    httpVersion: flags['http1.1'] === true ? 'http1.1' : flags.http2PriorKnowledge === true ? 'h2-prior-knowledge' : 'negotiate',
    ...(proxy === undefined ? {} : { proxy }),
  };
}

/** The proxy settings, each URL checked: http(s) only (a SOCKS URL or a typo is a usage error, exit 2). */
function checkedProxy(settings: ProxySettings): ProxySettings | undefined {
  for (const [name, value] of [['HTTP_PROXY', settings.httpProxy], ['HTTPS_PROXY', settings.httpsProxy]] as const) {
    if (value === undefined) continue;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new UsageError(`${name}: '${redactUrl(value)}' is not an http:// or https:// proxy URL`, { hint: 'e.g. HTTPS_PROXY=http://proxy.example:3128; unset it to connect directly' });
    }
  }
  return hasProxy(settings) ? settings : undefined;
}

/** Parses a stream/producer URL: http(s) only, `UsageError` otherwise. */
export function parseHttpUrl(text: string, what = 'URL', example = 'http://127.0.0.1:8787/api/admin/events'): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${what}: '${text}' is not a URL`, { hint: `e.g. ${example}` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${what}: '${url.protocol}' is not supported here, use http:// or https://`);
  return url;
}

/** Parses a positive integer flag. */
export function parseCount(text: string, what: string, { allowZero = false } = {}): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || (!allowZero && value === 0)) {
    throw new UsageError(`${what}: '${text}' must be a ${allowZero ? 'non-negative' : 'positive'} integer`);
  }
  return value;
}
