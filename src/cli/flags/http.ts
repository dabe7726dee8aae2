/**
 * Shared HTTP flags: extra headers, TLS trust, connect timeout. They build the undici Agent.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';

/** The raw flag values. */
export interface HttpFlags {
  readonly header?: readonly string[];
  readonly cacert?: string;
  readonly insecure?: boolean;
  readonly connectTimeout?: string;
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
    .option('--connect-timeout <duration>', 'time allowed to connect and receive response headers', '10s');
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

/** Reads `--cacert` and the timeout into agent options. */
export async function resolveHttpFlags(flags: HttpFlags): Promise<{ headers: Record<string, string>; extraCaPem: string[]; isInsecure: boolean; connectTimeoutMs: number }> {
  let extraCaPem: string[] = [];
  if (flags.cacert !== undefined) {
    try {
      extraCaPem = [await readFile(flags.cacert, 'utf8')];
    } catch (error) {
      throw new UsageError(`--cacert: cannot read ${flags.cacert}`, { cause: error });
    }
  }
  return {
    headers: parseHeaders(flags.header),
    extraCaPem,
    isInsecure: flags.insecure === true,
    connectTimeoutMs: parseDuration(flags.connectTimeout ?? '10s', '--connect-timeout'),
  };
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
