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
import { buildPlan, CHURN_MODES, readScenarioFile, type AuthPlan, type ChurnMode, type PlanOverrides } from '../../bench/scenario.js';
import { createServerCountReader } from '../../bench/server-count.js';
import { credentialsFor } from '../../bench/identities.js';
import { renderBenchReport } from '../../reporters/bench-text.js';
import { renderJunit, renderSummaryMarkdown } from '../../reporters/ci.js';
import { toJson } from '../../reporters/json.js';
import { withStreamAgent } from '../../transport/agent.js';
import { parseThreshold } from '../../metrics/thresholds.js';
import type { CliContext, RunCommand } from '../context.js';
import { startEmbeddedServer } from '../embedded-server.js';
import { addAuthFlags, authFlagsOf, checkAuthFlags, parseClaims, readJwtKey, resolveToken, type AuthFlags } from '../flags/auth.js';
import { checkOutputPaths, writeOutputFiles } from '../flags/output.js';
import { addHttpFlags, collect, parseCount, parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';
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
    .option('-c, --clients <n>', 'concurrent clients')
    .option('--ramp <duration>', 'spread client starts over this long')
    .option('-d, --duration <duration>', 'steady-state duration after the ramp')
    .option('--churn <fraction>', 'fraction of clients that drop and reconnect per second (e.g. 0.05)')
    .addOption(new Option('--churn-mode <mode>', 'how churning clients leave').choices(CHURN_MODES))
    .option('--publish <producer-url>', 'publish load: http(s)://…, redis://…/<channel>, amqp://…/<exchange>?routingKey=…')
    .option('--rate <per-second>', 'events per second (open model)')
    .option('--body <template>', 'event body template; must contain {{nonce}}')
    .option('--server-stats <url>', "where the server reports its open streams (Prometheus, JSON or 'name: value')")
    .option('--server-metric <selector>', "which figure: metric{labels}, JSON path, or key (e.g. 'sse_connections_active{role=\"admin\"}')")
    .option('--threshold <expr>', "pass/fail rule, repeatable: 'p99<500ms', 'p(95)<1s', 'loss==0', 'leaks==0', 'errors<1%', 'connect.p95<1s'", collect)
    .option('--heartbeat-timeout <duration>', 'a stream with no byte for this long is stalled and reconnects')
    .option('--leak-grace <duration>', 'after closing every stream, wait this long for the server count to settle')
    .option('--shard <i/N>', 'run the i-th of N deterministic slices of the clients and the publish schedule')
    .option('--run-id <id>', 'correlation id shared by the shards of one run (default: derived from the scenario)')
    .option('--start-at <time>', 'shards: wall-clock start of the shared publish schedule (ISO time or ms since epoch; default: the next whole 2 s once the fleet is open)')
    .option('-o, --out <file>', 'write the result JSON (written even when the run fails or is interrupted)')
    .option('--junit <file>', 'write thresholds as JUnit XML')
    .option('--summary-md <file>', 'write a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)')
    .option('--json', 'print the result JSON on stdout instead of the report');
  // Auth is per virtual user: --claims, --role and --sub may use {{vu}}, the user's index.
  addHttpFlags(command);
  addAuthFlags(command);
  command
    .addHelpText(
      'after',
      `
Examples:
  $ ssekit bench                                     # embedded server, admin-orders scenario, ~1 minute
  $ ssekit bench scenarios/admin-orders.yaml --target http://127.0.0.1:8787 --clients 2000 --churn 0.05 -o result.json
  $ ssekit bench http://127.0.0.1:8787/api/admin/events --jwt-secret "$S" --claims '{"role":"admin","sub":"vu-{{vu}}"}' \\
      --server-stats http://127.0.0.1:8787/metrics --server-metric 'sse_connections_active{role="admin"}' --threshold leaks==0`,
    )
    .action((argument: string | undefined, flags: BenchFlags, self: Command) =>
      run((ctx) => bench(argument, authFlagsOf(flags, self), ctx, { isConnectTimeoutSet: self.getOptionValueSource('connectTimeout') !== 'default' })),
    );
}

async function bench(argument: string | undefined, flags: BenchFlags, ctx: CliContext, sources: { isConnectTimeoutSet: boolean }): Promise<number> {
  // Loaded when bench runs (ora, the fleet): other commands start faster.
  const [{ runBench }, { createProgressReporter }] = await Promise.all([import('../../bench/run-bench.js'), import('../../reporters/progress.js')]);
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
  const overrides = overridesFrom(flags, { target, isEmbedded, auth: await authPlanFrom(flags), connectTimeoutMs: sources.isConnectTimeoutSet ? http.connectTimeoutMs : undefined });
  // Validate everything (thresholds included) before starting anything.
  let plan = buildPlan(raw, { ...overrides, ...(isEmbedded ? { target: 'http://127.0.0.1:1' } : {}) }, source);
  plan.thresholds.forEach((t) => parseThreshold(t));
  const shard = parseShard(flags.shard);
  await checkOutputPaths([flags.out, flags.junit, flags.summaryMd]);

  const embedded = isEmbedded ? await startEmbeddedServer(ctx) : undefined;
  if (embedded !== undefined) {
    plan = buildPlan(raw, { ...overrides, target: embedded.url }, source);
    ctx.stderr.write(`embedded ssekit serve on ${embedded.url} (admin-orders); ${plan.clients} clients, ${plan.durationMs / 1000} s\n`);
  }
  const progress = createProgressReporter(ctx.stderr, { isTTY: Boolean(ctx.stderr.isTTY) && ctx.useColor });
  const settings = { ...http, connectTimeoutMs: plan.connectTimeoutMs };
  let result: BenchResult | undefined;
  try {
    const publisherCredentials = await credentialsFor(plan.publish?.auth ?? plan.auth, 0);
    result = await withStreamAgent(settings, async (dispatcher) =>
      runBench(
        {
          plan,
          shard,
          runId: flags.runId,
          startAtMs: parseStartAt(flags.startAt),
          createProducer: (url) => createProducer(url, { method: plan.publish?.method, headers: http.headers, token: publisherCredentials.token, dispatcher, timeoutMs: 10_000 }),
          readServerCount: await createServerCountReader(plan, dispatcher, http.headers),
          headers: http.headers,
          http: settings,
          dispatcher,
          version: VERSION,
        },
        { signal: ctx.signal, onProgress: (p) => progress.onProgress(p), onNotice: (text) => progress.notice(`ssekit: ${redactText(text)}`) },
      ),
    );
  } finally {
    progress.stop();
    await embedded?.stop();
  }
  // Nothing collected is lost: the report is printed and every file written that can be.
  const writeFailures = await writeOutputFiles([
    [flags.out, () => `${toJson(result)}\n`],
    [flags.junit, () => renderJunit(result)],
    [flags.summaryMd, () => renderSummaryMarkdown(result)],
  ]);
  if (flags.json === true) ctx.stdout.write(`${toJson(result)}\n`);
  else ctx.stdout.write(renderBenchReport(result, { useColor: ctx.useColor, width: ctx.stdout.columns ?? 100 }));
  if (writeFailures.length > 0) throw new UsageError(writeFailures.join('; '));
  if (result.endReason === 'interrupted') return ExitCode.interrupted;
  return result.endReason === 'passed' ? ExitCode.ok : ExitCode.gateFailed;
}

function overridesFrom(flags: BenchFlags, context: { target: string | undefined; isEmbedded: boolean; auth: AuthPlan | undefined; connectTimeoutMs: number | undefined }): PlanOverrides {
  const number = (text: string | undefined, what: string, check: (n: number) => boolean): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || !check(value)) throw new UsageError(`${what}: '${text}' is out of range`);
    return value;
  };
  const embedded = context.isEmbedded ? EMBEDDED_OVERRIDES : undefined;
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
    serverStatsUrl: flags.serverStats,
    serverMetric: flags.serverMetric,
    thresholds: flags.threshold,
    auth: context.auth,
    connectTimeoutMs: context.connectTimeoutMs,
    heartbeatTimeoutMs: flags.heartbeatTimeout === undefined ? undefined : parseDuration(flags.heartbeatTimeout, '--heartbeat-timeout'),
    leakGraceMs: flags.leakGrace === undefined ? undefined : parseDuration(flags.leakGrace, '--leak-grace'),
  };
}

/**
 * The auth flags as a per-user plan: a shared token (`--token`, `SSEKIT_TOKEN`, `--token-file`),
 * or a JWT minted per virtual user (`--jwt-secret`/`--jwt-key` with `--claims`, `--role`,
 * `--sub`, where `{{vu}}` is the user's index). Undefined: keep the scenario's.
 */
async function authPlanFrom(flags: BenchFlags): Promise<AuthPlan | undefined> {
  checkAuthFlags(flags);
  if (flags.jwtSecret !== undefined || flags.jwtKey !== undefined) {
    const claims: Record<string, unknown> = { ...parseClaims(flags.claims) };
    if (flags.role !== undefined) claims['role'] = flags.role;
    if (flags.sub !== undefined) claims['sub'] = flags.sub;
    const privateKeyPem = await readJwtKey(flags.jwtKey);
    registerSecret(flags.jwtSecret);
    return { jwtSecret: flags.jwtSecret, privateKeyPem, claims, ttlMs: parseDuration(flags.ttl ?? '1h', '--ttl'), queryName: flags.tokenQuery };
  }
  const token = await resolveToken(flags);
  return token === undefined ? undefined : { token: token.token, queryName: token.queryName };
}

function parseStartAt(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--start-at: '${text}' is not a time (ISO 8601 or ms since epoch)`);
  return ms;
}

function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || index < 1 || index > count) throw new UsageError(`--shard: '${text}' must be i/N with 1 ≤ i ≤ N, e.g. 2/3`);
  return { index, count };
}
