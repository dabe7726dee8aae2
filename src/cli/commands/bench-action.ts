/**
 * What `ssekit bench` does once its flags are parsed (loaded only then, so other commands and
 * `--help` start fast): flags + scenario → a validated plan → the engine → reporters → exit code.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ExitCode, UsageError } from '../../core/errors.js';
import { parseDuration, parsePositiveDuration } from '../../core/duration.js';
import { redactText, registerSecret } from '../../core/redact.js';
import { createProducer } from '../../producers/producer.js';
import type { BenchResult } from '../../metrics/bench-result.js';
import type { BenchHooks } from '../../bench/run-bench.js';
import type { Shard } from '../../bench/population.js';
import { buildPlan, readScenarioFile, type BenchPlan, type PlanOverrides } from '../../bench/scenario.js';
import type { ChurnMode } from '../../bench/churn-modes.js';
import { credentialsFor } from '../../transport/identity.js';
import { createServerCountReader } from '../../bench/server-count.js';
import { renderBenchReport, renderPlan } from '../../reporters/bench-text.js';
import { renderJunit, renderSummaryMarkdown } from '../../reporters/ci.js';
import { readChartAssets } from '../../reporters/html/chart-assets.js';
import { renderHtmlReport } from '../../reporters/html/render-html.js';
import { toJson } from '../../reporters/json.js';
import { withStreamAgent } from '../../transport/agent.js';
import type { CliContext } from '../context.js';
import { readDataFlag } from '../flags/data.js';
import { startEmbeddedServer } from '../embedded-server.js';
import type { AuthFlags } from '../flags/auth.js';
import { authPlanFromFlags } from '../flags/credentials.js';
import { checkOutputPaths, writeOutputFiles } from '../flags/output.js';
import { parseCount, parseHeaders, parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';
import { VERSION } from '../version.js';

/** The raw flag values. */
export interface BenchFlags extends AuthFlags, HttpFlags {
  readonly target?: string;
  readonly clients?: string;
  readonly ramp?: string;
  readonly duration?: string;
  readonly churn?: string;
  readonly churnMode?: ChurnMode;
  readonly publish?: string;
  readonly rate?: string;
  readonly body?: string;
  readonly serverStats?: string;
  readonly serverMetric?: string;
  readonly serverStatsToken?: string;
  readonly serverStatsHeader?: readonly string[];
  readonly ignoreEvent?: readonly string[];
  readonly threshold?: readonly string[];
  readonly heartbeatTimeout?: string;
  readonly leakGrace?: string;
  readonly shard?: string;
  readonly runId?: string;
  readonly startAt?: string;
  readonly workers?: string;
  readonly resultLine?: boolean;
  readonly emit?: 'k8s';
  readonly shards?: string;
  readonly image?: string;
  readonly namespace?: string;
  readonly startIn?: string;
  readonly connections?: string;
  readonly localAddress?: string;
  readonly method?: string;
  readonly data?: string;
  readonly contentType?: string;
  readonly maxSelfLag?: string;
  /** Internal: run as worker i of `bench --workers` (the plan comes over IPC). */
  readonly worker?: string;
  readonly out?: string;
  readonly junit?: string;
  readonly summaryMd?: string;
  readonly html?: string;
  readonly json?: boolean;
}

const SCENARIO_DIR = fileURLToPath(new URL('../../../scenarios/', import.meta.url));

/** The embedded default: the admin-orders scenario at a modest size, about a minute. */
const EMBEDDED_OVERRIDES = { clients: 300, rampUpMs: 5_000, durationMs: 45_000, churnRate: 0.02 } as const;


/** A validated plan and what the run needs beside it, built before anything starts. */
interface PreparedBench {
  readonly raw: Record<string, unknown>;
  readonly source: string;
  readonly overrides: PlanOverrides;
  readonly plan: BenchPlan;
  readonly isEmbedded: boolean;
  readonly shard: Shard | undefined;
  readonly startAtMs: number | undefined;
  readonly http: ResolvedHttpFlags;
  readonly connections: number | undefined;
}

/** The HTTP flags, resolved (headers, TLS trust, connect timeout). */
export type ResolvedHttpFlags = Awaited<ReturnType<typeof resolveHttpFlags>>;

/** Runs `bench` with parsed flags; the exit code. */
export async function bench(argument: string | undefined, flags: BenchFlags, ctx: CliContext, sources: { isConnectTimeoutSet: boolean }): Promise<number> {
  if (flags.worker !== undefined) return (await import('./bench-workers.js')).runAsWorker(flags.worker, ctx);
  const prepared = await prepareBench(argument, flags, sources, ctx.env);
  if (flags.emit !== undefined) return (await import('./bench-emit.js')).emitK8s(prepared.plan, flags, ctx, { isEmbedded: prepared.isEmbedded });
  const workers = parseWorkers(flags.workers, prepared.shard);
  await checkOutputPaths([flags.out, flags.junit, flags.summaryMd, flags.html]);
  const embedded = prepared.isEmbedded ? await startEmbeddedServer(ctx) : undefined;
  try {
    const plan = embedded === undefined ? prepared.plan : buildPlan(prepared.raw, { ...prepared.overrides, target: embedded.url }, prepared.source);
    if (embedded !== undefined) ctx.stderr.write(`embedded ssekit serve on ${embedded.url} (admin-orders)\n`);
    const result =
      workers === undefined
        ? await runWithProgress(ctx, plan, { shard: prepared.shard, startAtMs: prepared.startAtMs, runId: flags.runId }, (hooks) =>
            executeBench(plan, prepared.http, { shard: prepared.shard, runId: flags.runId, startAtMs: prepared.startAtMs, connections: prepared.connections, localAddress: parseLocalAddress(flags.localAddress) }, hooks),
          )
        : await (await import('./bench-workers.js')).runWorkersFor(plan, prepared.http, { count: workers, runId: flags.runId }, ctx);
    return await reportBench(result, flags, ctx);
  } finally {
    // The embedded server lives until the leak check is done (the run has returned).
    await embedded?.stop();
  }
}

/** Where a run of one process is: its shard, shared start and run id, and its source address. */
export interface BenchPlacement {
  readonly shard?: Shard | undefined;
  /** `--connections N`: HTTP/2 connections the streams share. */
  readonly connections?: number | undefined;
  readonly runId?: string | undefined;
  readonly startAtMs?: number | undefined;
  readonly localAddress?: string | undefined;
}

/** Prints the plan, shows live progress while `execute` runs, and stops the display whatever happens. */
export async function runWithProgress(ctx: CliContext, plan: BenchPlan, placement: BenchPlacement & { readonly workers?: number }, execute: (hooks: BenchHooks) => Promise<BenchResult>): Promise<BenchResult> {
  const { createProgressReporter } = await import('../../reporters/progress.js');
  ctx.stderr.write(renderPlan(plan, placement));
  const progress = createProgressReporter(ctx.stderr, { isTTY: Boolean(ctx.stderr.isTTY) && ctx.useColor });
  try {
    return await execute({ signal: ctx.signal, onProgress: (p) => progress.onProgress(p), onNotice: (text) => progress.notice(`ssekit: ${redactText(text)}`) });
  } finally {
    progress.stop();
  }
}

/** One process's run of a plan: its agent, producer and server-count reader, then the engine. */
export async function executeBench(plan: BenchPlan, http: ResolvedHttpFlags, placement: BenchPlacement, hooks: BenchHooks): Promise<BenchResult> {
  const { runBench } = await import('../../bench/run-bench.js');
  const settings = { ...http, connectTimeoutMs: plan.connectTimeoutMs };
  const publisherCredentials = await credentialsFor(plan.publish?.auth ?? plan.auth, 0);
  const { headers } = http;
  return withStreamAgent(settings, async (dispatcher) =>
    runBench(
      {
        plan,
        shard: placement.shard,
        runId: placement.runId,
        startAtMs: placement.startAtMs,
        localAddress: placement.localAddress,
        connections: placement.connections,
        createProducer: (url) => createProducer(url, { method: plan.publish?.method, headers, token: publisherCredentials.token, dispatcher, timeoutMs: 10_000 }),
        readServerCount: await createServerCountReader(plan, dispatcher, headers),
        headers,
        http: settings,
        dispatcher,
        version: VERSION,
      },
      hooks,
    ),
  );
}

/** `--connections N`: only over HTTP/2 (over 1.1 a connection carries one stream, and the rest would wait for ever). */
function parseConnections(text: string | undefined, plan: BenchPlan, http: ResolvedHttpFlags): number | undefined {
  if (text === undefined) return undefined;
  const count = parseCount(text, '--connections');
  const isHttps = new URL(plan.target).protocol === 'https:';
  if (http.httpVersion === 'http1.1' || (!isHttps && http.httpVersion !== 'h2-prior-knowledge')) {
    throw new UsageError('--connections shares connections between streams, which needs HTTP/2: an https target (ALPN h2), or --http2-prior-knowledge for cleartext h2c');
  }
  return count;
}

/** `--local-address`: an IP literal (the kernel refuses anything else at connect time, once per client). */
function parseLocalAddress(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (isIP(text) === 0) throw new UsageError(`--local-address: '${text}' is not an IP address`, { hint: 'e.g. 127.0.0.2, or an address of this machine' });
  return text;
}

/** `--workers N|auto` (auto: one per core); undefined without the flag. */
function parseWorkers(text: string | undefined, shard: Shard | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (shard !== undefined) throw new UsageError('--workers runs the shards itself: give either --workers or --shard');
  if (text === 'auto') return availableParallelism();
  const count = parseCount(text, '--workers');
  if (count > 64) throw new UsageError(`--workers: ${count} is more processes than this machine should run (at most 64)`);
  return count;
}

/** Reads the scenario (or the stream URL) and the flags into a validated plan: every problem at once, before anything starts. */
async function prepareBench(argument: string | undefined, flags: BenchFlags, sources: { isConnectTimeoutSet: boolean }, env: CliContext['env']): Promise<PreparedBench> {
  const http = await resolveHttpFlags(flags, env);
  const isEmbedded = argument === undefined && flags.target === undefined;
  let raw: Record<string, unknown>;
  let source: string;
  let target = flags.target;
  if (argument !== undefined && /^https?:\/\//i.test(argument)) {
    const url = parseHttpUrl(argument, 'bench');
    const request = await streamRequestFrom(flags);
    raw = { name: `${url.host}${url.pathname}`, streams: [request === undefined ? `${url.pathname}${url.search}` : { path: `${url.pathname}${url.search}`, ...request }] };
    target ??= url.origin;
    source = 'flags';
  } else {
    if (flags.method !== undefined || flags.data !== undefined || flags.contentType !== undefined) throw new UsageError('--method, --data and --content-type go with a stream URL; in a scenario file give streams: [{path, method, body}]');
    const path = argument ?? `${SCENARIO_DIR}admin-orders.yaml`;
    ({ raw } = await readScenarioFile(path));
    source = path.split('/').pop() ?? path;
  }
  const overrides = { ...(await overridesFrom(flags, { target, isEmbedded, connectTimeoutMs: sources.isConnectTimeoutSet ? http.connectTimeoutMs : undefined })), env: (name: string) => env[name] };
  const plan = buildPlan(raw, { ...overrides, ...(isEmbedded ? { target: 'http://127.0.0.1:1' } : {}) }, source);
  const shard = parseShard(flags.shard);
  const startAtMs = parseStartAt(flags.startAt);
  if (shard !== undefined && startAtMs === undefined) {
    throw new UsageError('--shard needs --start-at: the shards of one run must start the shared publish schedule at the same instant', {
      hint: "give every shard the same time, e.g. --start-at \"$(date -u -d '+30 seconds' +%Y-%m-%dT%H:%M:%SZ)\" (bench --workers does this for you)",
    });
  }
  return { raw, source, overrides, plan, isEmbedded, shard, startAtMs, http, connections: parseConnections(flags.connections, plan, http) };
}

/** Prints the report, writes every file that can be written (nothing collected is lost), and returns the exit code. */
async function reportBench(result: BenchResult, flags: BenchFlags, ctx: CliContext): Promise<number> {
  // Serialized once for -o and --json (a 50,000-client result is large).
  let json: string | undefined;
  const resultJson = (): string => (json ??= `${toJson(result)}\n`);
  const writeFailures = await writeOutputFiles([
    [flags.out, resultJson],
    [flags.junit, () => renderJunit(result)],
    // GitHub's step summary is shared by the job's steps: append.
    [flags.summaryMd, () => renderSummaryMarkdown(result), 'append'],
    [flags.html, () => renderHtmlReport(result, readChartAssets())],
  ]);
  if (flags.json === true) ctx.stdout.write(resultJson());
  else ctx.stdout.write(renderBenchReport(result, { useColor: ctx.useColor, width: ctx.stdout.columns ?? 100 }));
  // One line, the last: `kubectl logs --tail=1` of every pod is a file `stats merge` reads.
  if (flags.resultLine === true) ctx.stdout.write(`${toJson(result, 0)}\n`);
  if (writeFailures.length > 0) throw new UsageError(writeFailures.join('; '));
  if (result.endReason === 'interrupted') return ExitCode.interrupted;
  return result.endReason === 'passed' ? ExitCode.ok : ExitCode.gateFailed;
}

async function overridesFrom(flags: BenchFlags, context: { target: string | undefined; isEmbedded: boolean; connectTimeoutMs: number | undefined }): Promise<PlanOverrides> {
  const number = (text: string | undefined, what: string, check: (n: number) => boolean): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || !check(value)) throw new UsageError(`${what}: '${text}' is out of range`);
    return value;
  };
  const embedded = context.isEmbedded ? EMBEDDED_OVERRIDES : undefined;
  const statsToken = flags.serverStatsToken === undefined || flags.serverStatsToken === '' ? undefined : flags.serverStatsToken.trim();
  registerSecret(statsToken);
  return {
    target: context.target,
    clients: flags.clients === undefined ? embedded?.clients : parseCount(flags.clients, '--clients'),
    rampUpMs: flags.ramp === undefined ? embedded?.rampUpMs : parseDuration(flags.ramp, '--ramp'),
    durationMs: flags.duration === undefined ? embedded?.durationMs : parseDuration(flags.duration, '--duration'),
    churnRate: flags.churn === undefined ? embedded?.churnRate : number(flags.churn, '--churn', (n) => n >= 0 && n <= 1),
    churnMode: flags.churnMode,
    producer: flags.publish,
    rate: number(flags.rate, '--rate', (n) => n > 0),
    body: flags.body,
    ignoreEventTypes: flags.ignoreEvent,
    serverStatsUrl: flags.serverStats,
    serverMetric: flags.serverMetric,
    serverStatsAuth: statsToken === undefined ? undefined : { token: statsToken },
    serverStatsHeaders: flags.serverStatsHeader === undefined ? undefined : parseHeaders(flags.serverStatsHeader, '--server-stats-header'),
    thresholds: flags.threshold,
    auth: await authPlanFromFlags(flags),
    connectTimeoutMs: context.connectTimeoutMs,
    heartbeatTimeoutMs: flags.heartbeatTimeout === undefined ? undefined : parseDuration(flags.heartbeatTimeout, '--heartbeat-timeout'),
    leakGraceMs: flags.leakGrace === undefined ? undefined : parseDuration(flags.leakGrace, '--leak-grace'),
    maxSelfLagMs: flags.maxSelfLag === undefined ? undefined : parsePositiveDuration(flags.maxSelfLag, '--max-self-lag'),
  };
}

/** `--method`, `--data` (text or @file) and `--content-type`, as a scenario's stream fields. */
async function streamRequestFrom(flags: BenchFlags): Promise<Record<string, string> | undefined> {
  if (flags.method === undefined && flags.data === undefined) {
    if (flags.contentType !== undefined) throw new UsageError('--content-type goes with --data');
    return undefined;
  }
  const body = flags.data === undefined ? undefined : await readDataFlag(flags.data);
  return { ...(flags.method === undefined ? {} : { method: flags.method }), ...(body === undefined ? {} : { body }), ...(flags.contentType === undefined ? {} : { contentType: flags.contentType }) };
}

function parseStartAt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--start-at: '${text}' is not a time (ISO 8601 or ms since epoch)`);
  return ms;
}

function parseShard(text: string | undefined): Shard | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || index < 1 || index > count) throw new UsageError(`--shard: '${text}' must be i/N with 1 ≤ i ≤ N, e.g. 2/3`);
  return { index, count };
}
