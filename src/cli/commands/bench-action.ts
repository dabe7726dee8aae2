/**
 * What `ssekit bench` does once its flags are parsed (loaded only then, so other commands and
 * `--help` start fast): flags + scenario → a validated plan → the engine → reporters → exit code.
 */
import { fileURLToPath } from 'node:url';
import { ExitCode, UsageError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { redactText, registerSecret } from '../../core/redact.js';
import { createProducer } from '../../producers/producer.js';
import type { BenchResult } from '../../metrics/bench-result.js';
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
  readonly http: Awaited<ReturnType<typeof resolveHttpFlags>>;
}

/** Runs `bench` with parsed flags; the exit code. */
export async function bench(argument: string | undefined, flags: BenchFlags, ctx: CliContext, sources: { isConnectTimeoutSet: boolean }): Promise<number> {
  // Loaded when bench runs (ora, the fleet): other commands start faster.
  const [{ runBench }, { createProgressReporter }] = await Promise.all([import('../../bench/run-bench.js'), import('../../reporters/progress.js')]);
  const prepared = await prepareBench(argument, flags, sources);
  await checkOutputPaths([flags.out, flags.junit, flags.summaryMd, flags.html]);
  const embedded = prepared.isEmbedded ? await startEmbeddedServer(ctx) : undefined;
  const plan = embedded === undefined ? prepared.plan : buildPlan(prepared.raw, { ...prepared.overrides, target: embedded.url }, prepared.source);
  if (embedded !== undefined) ctx.stderr.write(`embedded ssekit serve on ${embedded.url} (admin-orders)\n`);
  ctx.stderr.write(renderPlan(plan, { shard: prepared.shard, startAtMs: prepared.startAtMs, runId: flags.runId }));
  const progress = createProgressReporter(ctx.stderr, { isTTY: Boolean(ctx.stderr.isTTY) && ctx.useColor });
  const settings = { ...prepared.http, connectTimeoutMs: plan.connectTimeoutMs };
  let result: BenchResult;
  try {
    const publisherCredentials = await credentialsFor(plan.publish?.auth ?? plan.auth, 0);
    const { headers } = prepared.http;
    result = await withStreamAgent(settings, async (dispatcher) =>
      runBench(
        {
          plan,
          shard: prepared.shard,
          runId: flags.runId,
          startAtMs: prepared.startAtMs,
          createProducer: (url) => createProducer(url, { method: plan.publish?.method, headers, token: publisherCredentials.token, dispatcher, timeoutMs: 10_000 }),
          readServerCount: await createServerCountReader(plan, dispatcher, headers),
          headers,
          http: settings,
          dispatcher,
          version: VERSION,
        },
        { signal: ctx.signal, onProgress: (p) => progress.onProgress(p), onNotice: (text) => progress.notice(`ssekit: ${redactText(text)}`) },
      ),
    );
  } finally {
    progress.stop();
    // The embedded server lives until the leak check is done (runBench has returned).
    await embedded?.stop();
  }
  return reportBench(result, flags, ctx);
}

/** Reads the scenario (or the stream URL) and the flags into a validated plan: every problem at once, before anything starts. */
async function prepareBench(argument: string | undefined, flags: BenchFlags, sources: { isConnectTimeoutSet: boolean }): Promise<PreparedBench> {
  const http = await resolveHttpFlags(flags);
  const isEmbedded = argument === undefined && flags.target === undefined;
  let raw: Record<string, unknown>;
  let source: string;
  let target = flags.target;
  if (argument !== undefined && /^https?:\/\//i.test(argument)) {
    const url = parseHttpUrl(argument, 'bench');
    raw = { name: `${url.host}${url.pathname}`, streams: [`${url.pathname}${url.search}`] };
    target ??= url.origin;
    source = 'flags';
  } else {
    const path = argument ?? `${SCENARIO_DIR}admin-orders.yaml`;
    ({ raw } = await readScenarioFile(path));
    source = path.split('/').pop() ?? path;
  }
  const overrides = await overridesFrom(flags, { target, isEmbedded, connectTimeoutMs: sources.isConnectTimeoutSet ? http.connectTimeoutMs : undefined });
  const plan = buildPlan(raw, { ...overrides, ...(isEmbedded ? { target: 'http://127.0.0.1:1' } : {}) }, source);
  const shard = parseShard(flags.shard);
  const startAtMs = parseStartAt(flags.startAt);
  if (shard !== undefined && startAtMs === undefined) {
    throw new UsageError('--shard needs --start-at: the shards of one run must start the shared publish schedule at the same instant', {
      hint: "give every shard the same time, e.g. --start-at \"$(date -u -d '+30 seconds' +%Y-%m-%dT%H:%M:%SZ)\" (bench --workers does this for you)",
    });
  }
  return { raw, source, overrides, plan, isEmbedded, shard, startAtMs, http };
}

/** Prints the report, writes every file that can be written (nothing collected is lost), and returns the exit code. */
async function reportBench(result: BenchResult, flags: BenchFlags, ctx: CliContext): Promise<number> {
  const writeFailures = await writeOutputFiles([
    [flags.out, () => `${toJson(result)}\n`],
    [flags.junit, () => renderJunit(result)],
    // GitHub's step summary is shared by the job's steps: append.
    [flags.summaryMd, () => renderSummaryMarkdown(result), 'append'],
    [flags.html, () => renderHtmlReport(result, readChartAssets())],
  ]);
  if (flags.json === true) ctx.stdout.write(`${toJson(result)}\n`);
  else ctx.stdout.write(renderBenchReport(result, { useColor: ctx.useColor, width: ctx.stdout.columns ?? 100 }));
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
  };
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
