/**
 * `ssekit bench [scenario.yaml | stream-url]`: a fleet of reconnecting clients against a
 * backend, delivery latency, loss and server-side connection leaks, judged by thresholds.
 * With no argument it runs the admin-orders scenario against an embedded `ssekit serve`.
 */
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { redactText, registerSecret } from '../../core/redact.js';
import { createProducer } from '../../producers/producer.js';
import type { BenchResult } from '../../metrics/bench-result.js';
import type { Shard } from '../../bench/population.js';
import { buildPlan, CHURN_MODES, readScenarioFile, type BenchPlan, type ChurnMode, type PlanOverrides } from '../../bench/scenario.js';
import { credentialsFor } from '../../transport/identity.js';
import { createServerCountReader } from '../../bench/server-count.js';
import { renderBenchReport, renderPlan } from '../../reporters/bench-text.js';
import { renderJunit, renderSummaryMarkdown } from '../../reporters/ci.js';
import { toJson } from '../../reporters/json.js';
import { withStreamAgent } from '../../transport/agent.js';
import type { CliContext, RunCommand } from '../context.js';
import { startEmbeddedServer } from '../embedded-server.js';
import { addAuthFlags, authFlagsOf, authPlanFromFlags, type AuthFlags } from '../flags/auth.js';
import { checkOutputPaths, writeOutputFiles } from '../flags/output.js';
import { addHttpFlags, collect, parseCount, parseHeaders, parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';
import { VERSION } from '../version.js';

interface BenchFlags extends AuthFlags, HttpFlags {
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
  readonly json?: boolean;
}

const SCENARIO_DIR = fileURLToPath(new URL('../../../scenarios/', import.meta.url));

/** The embedded default: the admin-orders scenario at a modest size, about a minute. */
const EMBEDDED_OVERRIDES = { clients: 300, rampUpMs: 5_000, durationMs: 45_000, churnRate: 0.02 } as const;

/** Registers `bench`. */
export function registerBenchCommand(program: Command, run: RunCommand): void {
  const command = program
    .command('bench')
    .description('load-test an SSE backend: reconnecting clients, delivery latency, loss and server-side connection leaks')
    .argument('[scenario-or-url]', 'a scenario file (.yaml/.json), a stream URL, or nothing for the embedded default')
    .option('--target <base-url>', "point the scenario at another server (its paths are kept)")
    .option('-c, --clients <n>', "concurrent clients (default: the scenario's, else 10)")
    .option('--ramp <duration>', "spread client starts over this long (default: the scenario's, else 0s)")
    .option('-d, --duration <duration>', "steady-state duration after the ramp (default: the scenario's, else 60s)")
    .option('--churn <fraction>', 'fraction of clients that drop and reconnect per second, e.g. 0.05 (default 0)')
    .addOption(new Option('--churn-mode <mode>', 'how churning clients leave (default graceful)').choices(CHURN_MODES))
    .option('--publish <producer-url>', 'publish load: http(s)://…, redis://…/<channel>, amqp://…/<exchange>?routingKey=…')
    .option('--rate <per-second>', 'events per second, open model (default 1)')
    .option('--body <template>', "event body template with {{nonce}} (default: publish's seed-shaped body for the producer)")
    .option('--ignore-event <type>', "event type never matched to published events, repeatable (e.g. initial: a snapshot resent on every reconnect)", collect)
    .option('--server-stats <url>', "where the server reports its open streams (Prometheus, JSON or 'name: value')")
    .option('--server-metric <selector>', "which figure: metric{labels}, JSON path, or key (e.g. 'sse_connections_active{role=\"admin\"}')")
    .addOption(new Option('--server-stats-token <token>', "bearer token for the stats reads (default: the streams' credentials when on their origin)").env('SSEKIT_SERVER_STATS_TOKEN'))
    .option('--server-stats-header <header>', "extra header for the stats reads, 'Name: value' (repeatable)", collect)
    .option('--threshold <expr>', "pass/fail rule, repeatable: 'p99<500ms', 'p(95)<1s', 'loss==0', 'leaks==0', 'errors<1%', 'connect.p95<1s', 'open>=95%'", collect)
    .option('--heartbeat-timeout <duration>', 'a stream with no byte for this long is stalled and reconnects (default off)')
    .option('--leak-grace <duration>', 'after closing every stream, wait this long for the server count to settle (default 5s)')
    .option('--shard <i/N>', 'run the i-th of N deterministic slices of the clients and the publish schedule (needs --start-at)')
    .option('--run-id <id>', 'correlation id shared by the shards of one run (default: derived from the scenario, target excluded)')
    .option('--start-at <time>', 'shards: wall-clock start of the shared publish schedule, the same for every shard (ISO time or ms since epoch)')
    .option('-o, --out <file>', 'write the result JSON (written even when the run fails or is interrupted)')
    .option('--junit <file>', 'write thresholds as JUnit XML')
    .option('--summary-md <file>', 'append a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)')
    .option('--json', 'print the result JSON on stdout instead of the report');
  // Auth is per virtual user: --claims, --role and --sub may use {{vu}}, the user's index.
  addHttpFlags(command);
  addAuthFlags(command);
  command
    .addHelpText(
      'after',
      `
Identities: a minted JWT gets one subject per virtual user (vu-0, vu-1, …) unless --sub or the
claims name one; a fixed --sub or a shared --token is one identity for all (the plan says so).
Thresholds: 'open>=95%' (the fleet stayed open) and, with --server-stats, 'undercount==0' are
always judged unless a --threshold names the same figure.

Examples:
  $ ssekit bench                                     # embedded server, admin-orders scenario, ~1 minute
  $ ssekit bench scenarios/admin-orders.yaml --target http://127.0.0.1:8787 --clients 2000 --churn 0.05 -o result.json
  $ ssekit bench http://127.0.0.1:8787/api/admin/events --jwt-secret "$S" --role admin \\
      --server-stats http://127.0.0.1:8787/metrics --server-metric 'sse_connections_active{role="admin"}' --threshold leaks==0`,
    )
    .action((argument: string | undefined, flags: BenchFlags, self: Command) =>
      run((ctx) => bench(argument, authFlagsOf(flags, self), ctx, { isConnectTimeoutSet: self.getOptionValueSource('connectTimeout') !== 'default' })),
    );
}

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

async function bench(argument: string | undefined, flags: BenchFlags, ctx: CliContext, sources: { isConnectTimeoutSet: boolean }): Promise<number> {
  // Loaded when bench runs (ora, the fleet): other commands start faster.
  const [{ runBench }, { createProgressReporter }] = await Promise.all([import('../../bench/run-bench.js'), import('../../reporters/progress.js')]);
  const prepared = await prepareBench(argument, flags, sources);
  await checkOutputPaths([flags.out, flags.junit, flags.summaryMd]);
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
