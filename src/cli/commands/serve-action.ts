/**
 * What `ssekit serve` does once its flags are parsed (loaded only then, so other commands,
 * `--help` and `--version` start without jose or the profiles): flags → ServeOptions →
 * startServer → banner on stdout, JSON logs on stderr; runs until Ctrl-C / SIGTERM (or stdin's
 * end with --exit-on-stdin-end), then ends every stream cleanly and exits 0.
 */
import { readFile } from 'node:fs/promises';
import { DEV_JWT_SECRET } from '../../core/dev-jwt.js';
import { ExitCode, UsageError } from '../../core/errors.js';
import { parseDuration, parsePositiveByteSize, parsePositiveDuration } from '../../core/duration.js';
import { redactUrl } from '../../core/redact.js';
import { mintDevTokens } from '../../serve/dev-tokens.js';
import { WORKER_ENV } from '../../serve/cluster/messages.js';
import { describeFaults, parseFaults, type FaultSet } from '../../serve/faults.js';
import type { StreamLimitPolicy } from '../../serve/hub-stream.js';
import { isProfileName, PROFILE_NAMES } from '../../serve/profile-names.js';
import type { ServeOptions, ServeSummary } from '../../serve/server.js';
import type { CliContext } from '../context.js';

export interface ServeFlags {
  readonly host: string;
  readonly port: string;
  readonly profile?: readonly string[];
  readonly jwtSecret?: string;
  readonly jwtPublicKey?: string;
  readonly allowNoExp?: boolean;
  readonly heartbeat: string;
  readonly inactivityTimeout: string;
  readonly maxStreamsPerUser?: string;
  readonly streamLimitPolicy?: StreamLimitPolicy;
  readonly maxBuffer: string;
  readonly maxBody: string;
  readonly headerTimeout: string;
  readonly maxConnections?: string;
  readonly bodyTimeout: string;
  readonly retry?: string;
  readonly redis?: string;
  readonly amqp?: string;
  readonly sourceWarningInterval?: string;
  readonly replayBuffer?: string;
  readonly fault?: readonly string[];
  readonly quiet?: boolean;
  readonly exitOnStdinEnd?: boolean;
  readonly workers: string;
}

/** Most workers `--workers` takes. */
const MAX_WORKERS = 64;
/** Messages per bus channel the primary keeps for replacement workers (README "serve --workers"). */
const WORKER_HISTORY = 10_000;


export async function serve(flags: ServeFlags, ctx: CliContext): Promise<number> {
  const { options, workers } = await toOptions(flags);
  const withLogs: ServeOptions = { ...options, ...(flags.quiet ? {} : { onLog: (line: string) => void ctx.stderr.write(`${line}\n`) }) };
  const slot = ctx.env[WORKER_ENV];
  if (slot !== undefined) return serveAsWorker(withLogs, workers, Number(slot), ctx);
  if (workers > 1) return serveAsPrimary(withLogs, workers, flags, ctx);
  // The engine (prom-client, brokers) loads only when serve runs: other commands start faster.
  const { startServer } = await import('../../serve/server.js');
  const handle = await startServer(withLogs);
  try {
    ctx.stdout.write(await banner(handle, flags, options.faults));
    await untilAborted(stopSignal(ctx, flags.exitOnStdinEnd === true));
  } finally {
    await handle.close();
  }
  return ExitCode.ok;
}

/**
 * `--workers N` (issue 14 point 3): this process is the primary; it runs N copies of this command
 * line as workers on one port and prints the banner once they all listen. A worker that fails to
 * start has printed why; the primary then exits with the worker's code.
 */
async function serveAsPrimary(options: ServeOptions, workers: number, flags: ServeFlags, ctx: CliContext): Promise<number> {
  const { ServeCluster, WorkerStartError } = await import('../../serve/cluster/primary.js');
  const { createLogger } = await import('../../serve/log.js');
  const cluster = new ServeCluster({ workers, exec: process.argv[1] ?? '', args: process.argv.slice(2), historySize: WORKER_HISTORY, log: createLogger(options.onLog, { worker: 'primary' }) });
  let ready: Awaited<ReturnType<typeof cluster.start>>;
  try {
    ready = await cluster.start();
  } catch (error) {
    if (!(error instanceof WorkerStartError)) throw error;
    await cluster.stop(2000);
    return error.exitCode;
  }
  try {
    ctx.stdout.write(await banner({ ...(ready.summary as ServeSummary), url: ready.url, pids: ready.pids }, flags, options.faults));
    await untilAborted(stopSignal(ctx, flags.exitOnStdinEnd === true));
  } finally {
    await cluster.stop();
  }
  return ExitCode.ok;
}

/**
 * One worker of `--workers N` (forked by the primary with its slot in the env): the same server,
 * linked to the primary over IPC, with its share of `--max-connections`. It ends on the primary's
 * `shutdown`, on a signal, or (node:cluster) at once when the primary is gone.
 */
async function serveAsWorker(options: ServeOptions, workers: number, slot: number, ctx: CliContext): Promise<number> {
  const { WorkerLink } = await import('../../serve/cluster/worker-link.js');
  const { startServer } = await import('../../serve/server.js');
  // A send after the primary is gone fails into the callback, not as an 'error' event (the worker
  // then exits: node:cluster ends a worker whose primary disconnected).
  const send = (message: unknown): void => {
    if (process.connected) process.send?.(message, undefined, undefined, () => undefined);
  };
  const link = new WorkerLink({ send, onMessage: (handler) => void process.on('message', handler) }, slot);
  const shutdown = new AbortController();
  link.handlers.shutdown = () => shutdown.abort();
  const maxConnections = options.maxConnections === undefined ? {} : { maxConnections: connectionShare(options.maxConnections, workers, slot) };
  const handle = await startServer({ ...options, ...maxConnections, cluster: link, amqpQueuePrefix: `ssekit.serve.${process.ppid}` });
  try {
    const summary: ServeSummary = { profiles: handle.profiles, busKind: handle.busKind, isDevSecret: handle.isDevSecret };
    link.send({ t: 'ready', url: handle.url, pid: process.pid, summary });
    await untilAborted(AbortSignal.any([ctx.signal, shutdown.signal]));
  } finally {
    await handle.close();
  }
  return ExitCode.ok;
}

/** A worker's part of `--max-connections`: the whole split as evenly as it goes (round-robin spreads connections evenly). */
function connectionShare(total: number, workers: number, slot: number): number {
  return Math.floor(total / workers) + (slot <= total % workers ? 1 : 0);
}

/** What ends serve: Ctrl-C / SIGTERM, and with `--exit-on-stdin-end` the end of stdin too. */
function stopSignal(ctx: CliContext, isExitOnStdinEnd: boolean): AbortSignal {
  if (!isExitOnStdinEnd) return ctx.signal;
  const stdinEnded = new AbortController();
  const stop = (): void => stdinEnded.abort();
  process.stdin.once('end', stop);
  process.stdin.once('close', stop);
  process.stdin.once('error', stop);
  // Read (and discard) stdin: 'end' only comes to a stream that flows.
  process.stdin.resume();
  return AbortSignal.any([ctx.signal, stdinEnded.signal]);
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Flag values once parsed; undefined where the flag was not given or was bad (then it is in `problems`). */
interface ParsedFlags {
  readonly problems: string[];
  readonly port?: number | undefined;
  readonly workers?: number | undefined;
  readonly profiles?: string[] | undefined;
  readonly heartbeatMs?: number | undefined;
  readonly inactivityTimeoutMs?: number | undefined;
  readonly maxStreamsPerUser?: number | undefined;
  readonly maxBufferBytes?: number | undefined;
  readonly maxBodyBytes?: number | undefined;
  readonly maxConnections?: number | undefined;
  readonly headerTimeoutMs?: number | undefined;
  readonly bodyTimeoutMs?: number | undefined;
  readonly retryMs?: number | undefined;
  readonly sourceWarningMs?: number | undefined;
  readonly replayBufferSize?: number | undefined;
  readonly faults?: FaultSet | undefined;
  readonly publicKeyPem?: string | undefined;
}

/** Validates every flag and reports all problems at once (STYLE "Validation"). */
async function toOptions(flags: ServeFlags): Promise<{ options: ServeOptions; workers: number }> {
  const parsed = await parseFlags(flags);
  if (parsed.problems.length > 0) throw new UsageError(parsed.problems.join('; '), { hint: "see 'ssekit serve --help'" });
  const given = <K extends keyof ServeOptions>(key: K, value: ServeOptions[K] | undefined): Partial<ServeOptions> => (value === undefined ? {} : { [key]: value });
  const options: ServeOptions = {
    host: flags.host,
    port: parsed.port as number,
    ...(parsed.profiles === undefined || parsed.profiles.length === 0 ? {} : { profiles: [...new Set(parsed.profiles)] }),
    jwt: parsed.publicKeyPem !== undefined ? { publicKeyPem: parsed.publicKeyPem } : { secret: flags.jwtSecret ?? DEV_JWT_SECRET },
    ...(flags.allowNoExp === true ? { allowNoExp: true } : {}),
    heartbeatMs: parsed.heartbeatMs as number,
    inactivityTimeoutMs: parsed.inactivityTimeoutMs as number,
    maxBufferBytes: parsed.maxBufferBytes as number,
    maxBodyBytes: parsed.maxBodyBytes as number,
    headerTimeoutMs: parsed.headerTimeoutMs as number,
    bodyTimeoutMs: parsed.bodyTimeoutMs as number,
    ...given('maxStreamsPerUser', parsed.maxStreamsPerUser),
    ...given('streamLimitPolicy', flags.streamLimitPolicy),
    ...given('maxConnections', parsed.maxConnections),
    ...given('retryMs', parsed.retryMs),
    ...given('redisUrl', flags.redis),
    ...given('amqpUrl', flags.amqp),
    ...given('sourceWarningMs', parsed.sourceWarningMs),
    ...given('replayBufferSize', parsed.replayBufferSize),
    ...given('faults', parsed.faults),
  };
  return { options, workers: parsed.workers as number };
}

async function parseFlags(flags: ServeFlags): Promise<ParsedFlags> {
  const problems: string[] = [];
  const attempt = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  };
  const optional = <T>(text: string | undefined, parse: (value: string) => T): T | undefined => (text === undefined ? undefined : attempt(() => parse(text)));
  const profiles = flags.profile?.flatMap((value) => value.split(',')).map((name) => name.trim()).filter((name) => name !== '');
  for (const name of profiles ?? []) {
    if (!isProfileName(name)) problems.push(`--profile: unknown profile '${name}' (known: ${PROFILE_NAMES.join(', ')})`);
  }
  if (flags.redis !== undefined) attempt(() => redisUrl(flags.redis as string));
  if (flags.jwtSecret !== undefined && flags.jwtSecret === '') problems.push('--jwt-secret must not be empty');
  return {
    problems,
    profiles,
    port: attempt(() => integer(flags.port, '--port', 0, 65_535)),
    workers: attempt(() => integer(flags.workers, '--workers', 1, MAX_WORKERS)),
    heartbeatMs: attempt(() => parsePositiveDuration(flags.heartbeat, '--heartbeat')),
    inactivityTimeoutMs: attempt(() => parseDuration(flags.inactivityTimeout, '--inactivity-timeout')),
    maxStreamsPerUser: optional(flags.maxStreamsPerUser, (text) => integer(text, '--max-streams-per-user', 0, 1_000_000)),
    maxBufferBytes: attempt(() => parsePositiveByteSize(flags.maxBuffer, '--max-buffer')),
    maxBodyBytes: attempt(() => parsePositiveByteSize(flags.maxBody, '--max-body')),
    maxConnections: optional(flags.maxConnections, (text) => integer(text, '--max-connections', 1, 10_000_000)),
    headerTimeoutMs: attempt(() => parsePositiveDuration(flags.headerTimeout, '--header-timeout')),
    bodyTimeoutMs: attempt(() => parsePositiveDuration(flags.bodyTimeout, '--body-timeout')),
    retryMs: optional(flags.retry, (text) => Math.round(parseDuration(text, '--retry'))),
    sourceWarningMs: optional(flags.sourceWarningInterval, (text) => parsePositiveDuration(text, '--source-warning-interval')),
    replayBufferSize: optional(flags.replayBuffer, (text) => integer(text, '--replay-buffer', 0, 10_000_000)),
    faults: attempt(() => parseFaults(flags.fault ?? [])),
    publicKeyPem: flags.jwtPublicKey === undefined ? undefined : await readPublicKey(flags.jwtPublicKey, problems),
  };
}

async function readPublicKey(path: string, problems: string[]): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    problems.push(`--jwt-public-key: cannot read '${path}'`);
    return undefined;
  }
}

/**
 * Start-up output. The first line is for scripts (`ssekit serve listening on <url>`); then
 * where each profile lives and, with the dev secret only, tokens to try.
 */
async function banner(handle: ServeSummary & { readonly url: string; readonly pids?: readonly number[] }, flags: ServeFlags, faultSet: FaultSet | undefined): Promise<string> {
  const lines = [`ssekit serve listening on ${handle.url}`];
  const width = Math.max(...handle.profiles.flatMap((profile) => profile.routes.map((route) => route.path.length)), '/metrics'.length);
  for (const profile of handle.profiles) {
    lines.push(`  ${profile.name} (CONTRACTS ${profile.contract})`);
    for (const route of profile.routes) lines.push(`    ${route.method.padEnd(6)} ${handle.url}${route.path.padEnd(width)}  ${route.summary}`);
  }
  lines.push(`  metrics`, `    ${'GET'.padEnd(6)} ${handle.url}${'/metrics'.padEnd(width)}  Prometheus text`);
  lines.push(`fan-out: ${fanOut(handle.busKind, flags)}`);
  if (handle.pids !== undefined) lines.push(`workers: ${handle.pids.length} (pids ${handle.pids.join(', ')})`);
  const faults = faultSet === undefined ? '' : describeFaults(faultSet);
  if (faults !== '') lines.push(`faults: ${faults}`);
  if (handle.isDevSecret) {
    lines.push(`dev tokens (24 h), signed with the public DEV secret '${DEV_JWT_SECRET}': for local testing only, never in production:`);
    const tokens = await mintDevTokens(DEV_JWT_SECRET);
    for (const { label, claims, token } of tokens) {
      const ids = Object.entries(claims).filter(([name]) => name !== 'role').map(([name, value]) => `${name}=${String(value)}`).join(' ');
      lines.push(`  ${`${label}:`.padEnd(12)} ${token}  (${ids})`);
    }
    const admin = tokens[0];
    const firstStream = handle.profiles[0]?.routes.find((route) => route.isStream);
    if (admin && firstStream) lines.push(`try: curl -N -H "Authorization: Bearer ${admin.token}" ${handle.url}${firstStream.path}`);
  } else {
    lines.push('tokens: verified with your --jwt-secret / --jwt-public-key (mint one with `ssekit token`)');
  }
  return `${lines.join('\n')}\n`;
}

function fanOut(kind: ServeSummary['busKind'], flags: ServeFlags): string {
  if (kind === 'redis') return `redis ${redactUrl(flags.redis ?? '')}`;
  return kind === 'primary' ? 'through the primary process, to every worker' : 'in-process';
}

function integer(text: string, what: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`${what}: '${text}' is not an integer in ${min}..${max}`);
  return value;
}



function redisUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--redis: '${redactUrl(text)}' is not a URL (e.g. redis://127.0.0.1:6379)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UsageError(`--redis: expected a redis:// or rediss:// URL, got ${url.protocol}`);
}
