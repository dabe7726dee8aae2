/**
 * `bench`'s engine, as a list of phases over one named state (`BenchRun`): prepare (server
 * baseline, producer), ramp up the fleet, wait for it to open, wait for the shared start of a
 * sharded schedule, steady state (publish, churn, stall watchdog), drain, stop the fleet, let
 * the server settle, and assemble the result (a pure function). One `try/finally` releases
 * everything, whatever phase ended the run. A `BenchResult` always comes back, Ctrl-C included
 * (`endReason: 'interrupted'`); only setup errors and bugs throw.
 */
import { randomBytes } from 'node:crypto';
import { Client, type buildConnector, type Dispatcher } from 'undici';
import { ConnectError, HttpStatusError, ProtocolError, type SsekitError } from '../core/errors.js';
import { sleep } from '../core/sleep.js';
import type { BenchResult } from '../metrics/bench-result.js';
import { createMarkerCodec, type MarkerCodec } from '../metrics/correlate.js';
import { createDeliveryTracker, type DeliveryTracker } from '../metrics/delivery-tracker.js';
import { createRollingLatency, createSeriesRecorder, type RollingLatency, type SeriesRecorder } from '../metrics/time-series.js';
import { receiptNotice } from '../producers/receipt.js';
import { startPublishSchedule, type PublishSchedule } from '../producers/schedule.js';
import { startSelfLagMonitor, type SelfLagMonitor } from '../metrics/self-lag.js';
import { compileTemplate } from '../producers/template.js';
import type { Producer } from '../producers/types.js';
import { createFleetConnector, type HttpSettings } from '../transport/agent.js';
import { ACCEPT_ENCODING } from '../transport/body-decoder.js';
import { describeIdentity, identityPolicyOf } from '../transport/identity.js';
import { createFleetCounters, type FleetCounters } from './fleet-counters.js';
import { createFleet, type Fleet } from './fleet.js';
import type { LeakSampler, ReadServerCount } from './leak.js';
import { createPlanLeakSampler } from './server-count.js';
import { createPopulation, type Population, type Shard } from './population.js';
import { createProgressMeter, type BenchPhase, type BenchProgress } from './progress.js';
import { assembleBenchResult } from './result.js';
import { hashPlan, resolveAgainst, type BenchPlan } from './scenario.js';
import { measureSelf, readSelfBaseline, type SelfBaseline } from './self-usage.js';

/** Everything `runBench` needs besides the plan. */
export interface BenchRunOptions {
  readonly plan: BenchPlan;
  /** 1-based shard index and count; undefined = the whole population. */
  readonly shard?: Shard | undefined;
  /** Shared by the shards of one run (derived from the plan when sharded). */
  readonly runId?: string | undefined;
  /** Sharded runs: wall-clock time (ms since epoch) the shared publish schedule starts. */
  readonly startAtMs?: number | undefined;
  /** Builds the producer for `plan.publish` (injected: the CLI owns auth/agent choices). */
  readonly createProducer?: ((url: string) => Producer) | undefined;
  /** Extra request headers for every stream (`-H`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Reads the server's open-stream count (leak detection). */
  readonly readServerCount?: ReadServerCount | undefined;
  /** TLS trust for the fleet's sockets (the connect timeout is the plan's). */
  readonly http?: HttpSettings | undefined;
  /** Source address of the fleet's sockets (bench --workers gives each worker its own). */
  readonly localAddress?: string | undefined;
  /** Carry the streams over this many HTTP/2 connections (`--connections`); default one socket per client. */
  readonly connections?: number | undefined;
  /** The dispatcher behind the producer and the server-count reader: runBench closes it
   * before it counts its own sockets (an idle keep-alive socket is not a leak). */
  readonly dispatcher?: Dispatcher | undefined;
  readonly version: string;
}

/** Hooks. */
export interface BenchHooks {
  readonly signal: AbortSignal;
  onProgress?(progress: BenchProgress): void;
  onNotice?(text: string): void;
}

const TICK_MS = 100;
const PROGRESS_MS = 1000;
const SWEEP_MS = 250;
/** After the ramp, clients still connecting get this long at most: a server that kicks them would otherwise hold the run here. */
const OPEN_WAIT_CAP_MS = 5_000;

/** The state of one run, shared by its phases. */
interface BenchRun {
  readonly options: BenchRunOptions;
  readonly plan: BenchPlan;
  readonly hooks: BenchHooks;
  readonly startedAt: number;
  readonly startedAtWall: Date;
  readonly self: SelfBaseline;
  /** ssekit's own event-loop lag, from the first client to the end of the drain. */
  readonly lag: SelfLagMonitor;
  readonly runId: string;
  readonly population: Population;
  readonly counters: FleetCounters;
  /** Delivery latency, one histogram per second rolled into the run's. */
  readonly latency: RollingLatency;
  /** The run's figures over time (result `series`). */
  readonly series: SeriesRecorder;
  readonly marker: MarkerCodec;
  readonly tracker: DeliveryTracker;
  readonly leak: LeakSampler;
  readonly fleet: Fleet;
  readonly progress: { snapshot(phase: BenchPhase): BenchProgress };
  readonly issues: RunIssues;
  phase: BenchPhase;
  producer: Producer | undefined;
  schedule: PublishSchedule | undefined;
  timers: { progress?: NodeJS.Timeout | undefined; sweep?: NodeJS.Timeout | undefined };
  /** The steady state's window: uptime is judged over it only (the ramp is not expected to be open). */
  readonly steady: { startedAt: number; uptimeAreaAtStart: number; meanOpen: number | null; scheduleStartWall: number | null };
  isFleetStopped: boolean;
  isReleased: boolean;
}

/** What went wrong along the way: notices for the user (each once), and a bug that stops the run. */
interface RunIssues {
  /** An unexpected error in the per-event path: the run stops and rethrows it (exit 1). */
  bug: unknown;
  notice(text: string): void;
}

function createRunIssues(hooks: BenchHooks): RunIssues {
  const seen = new Set<string>();
  return {
    bug: undefined,
    notice(text) {
      if (seen.has(text)) return;
      seen.add(text);
      hooks.onNotice?.(text);
    },
  };
}

/** Runs the bench; never throws for run-time failures (they are in the result). */
export async function runBench(options: BenchRunOptions, hooks: BenchHooks): Promise<BenchResult> {
  const run = createBenchRun(options, hooks);
  try {
    await prepare(run);
    await run.fleet.rampUp(run.plan.rampUpMs, hooks.signal);
    await waitForFleet(run);
    await runSteadyState(run, await waitForSharedStart(run));
    await drain(run);
    await stopFleet(run);
    if (run.issues.bug !== undefined) throw run.issues.bug;
    await settleServer(run);
    await release(run);
    // undici closes sockets asynchronously; give them a moment before counting ours.
    await sleep(100, new AbortController().signal);
    return finish(run);
  } finally {
    await stopFleet(run);
    await release(run);
  }
}

function createBenchRun(options: BenchRunOptions, hooks: BenchHooks): BenchRun {
  const { plan, shard } = options;
  const startedAt = performance.now();
  const runId = options.runId ?? (shard === undefined ? randomBytes(4).toString('hex') : hashPlan(plan).slice(0, 8));
  const population = createPopulation(plan, shard);
  const counters = createFleetCounters();
  const latency = createRollingLatency();
  const marker = createMarkerCodec(runId);
  const tracker = createDeliveryTracker({ clients: population.size, marker, timeoutMs: plan.publish?.timeoutMs ?? 5_000, histogram: latency, subscribers: population.subscribers, publishers: shard?.count });
  const leak = createPlanLeakSampler(plan, options.readServerCount, startedAt);
  const issues = createRunIssues(hooks);
  const run: BenchRun = {
    options,
    plan,
    hooks,
    startedAt,
    startedAtWall: new Date(),
    self: readSelfBaseline(),
    lag: startSelfLagMonitor(),
    runId,
    population,
    counters,
    latency,
    series: createSeriesRecorder(),
    marker,
    tracker,
    leak,
    fleet: createFleetFor(options, population, counters, tracker, issues),
    progress: createProgressMeter({ startedAt, planned: population.size, counters, tracker, latency, leak, published: () => run.schedule?.sent ?? 0 }),
    issues,
    phase: 'ramp-up',
    producer: undefined,
    schedule: undefined,
    timers: {},
    steady: { startedAt: 0, uptimeAreaAtStart: 0, meanOpen: null, scheduleStartWall: null },
    isFleetStopped: false,
    isReleased: false,
  };
  return run;
}

function createFleetFor(options: BenchRunOptions, population: Population, counters: FleetCounters, tracker: DeliveryTracker, issues: RunIssues): Fleet {
  const { plan } = options;
  const connector = createFleetConnector({ ...options.http, connectTimeoutMs: plan.connectTimeoutMs });
  return createFleet({
    population,
    connections: options.connections === undefined ? undefined : createSharedConnections(options.connections, population, connector, plan.connectTimeoutMs, options.localAddress),
    context: {
      origin: population.origin,
      localAddress: options.localAddress,
      connector,
      counters,
      maxEventBytes: plan.maxEventBytes,
      connectTimeoutMs: plan.connectTimeoutMs,
      retryInitialMs: 500,
      retryMaxMs: 30_000,
      onData: tracker.onData,
      onBug: (error) => {
        issues.bug ??= error;
      },
      ignoredTypes: plan.publish?.ignoreEventTypes === undefined ? undefined : new Set(plan.publish.ignoreEventTypes),
      onOpen: tracker.onOpen,
      onClose: tracker.onClose,
    },
    auth: plan.auth,
    // As a browser asks: a compressed stream is decoded, never measured as zero events.
    headers: { accept: 'text/event-stream', 'cache-control': 'no-cache', 'accept-encoding': ACCEPT_ENCODING, ...options.headers },
    churnRate: plan.churnRate,
    churnMode: plan.churnMode,
    heartbeatTimeoutMs: plan.heartbeatTimeoutMs,
    openCount: () => tracker.openCount,
    onNotice: (text) => issues.notice(text),
  });
}

/**
 * `--connections N`: N HTTP/2 connections to the origin that every stream shares (client i on
 * connection i mod N), with room for their share of the streams each.
 */
function createSharedConnections(count: number, population: Population, connector: buildConnector.connector, connectTimeoutMs: number, localAddress: string | undefined): Client[] {
  const streamsEach = Math.ceil(population.size / count) + 8;
  return Array.from({ length: count }, () => {
    const client = new Client(population.origin, {
      ...(localAddress === undefined ? {} : { localAddress }),
      allowH2: true,
      maxConcurrentStreams: streamsEach,
      pipelining: streamsEach,
      bodyTimeout: 0,
      headersTimeout: connectTimeoutMs,
      connect: connector,
    });
    client.on('connectionError', () => undefined);
    return client;
  });
}

/** Before any client: the server's baseline count, the producer, sampling and progress. */
async function prepare(run: BenchRun): Promise<void> {
  const { plan, options, leak } = run;
  await leak.takeBaseline();
  if (plan.serverStats !== undefined && options.readServerCount !== undefined && leak.report().baseline === null) {
    run.issues.notice(`cannot read ${plan.serverStats.metric} from ${leak.report().source ?? ''}: leak detection off for this run`);
  }
  if (plan.publish !== undefined && options.createProducer !== undefined) {
    run.producer = options.createProducer(resolveAgainst(plan.target, plan.publish.producer));
    await run.producer.open();
  }
  leak.startSampling(() => run.tracker.openCount);
  run.timers.progress = setInterval(() => {
    recordSeries(run);
    run.hooks.onProgress?.(run.progress.snapshot(run.phase));
  }, PROGRESS_MS);
  run.timers.progress.unref();
}

/** One tick of the time series: totals, the server's latest count, ssekit's lag and the second's latency. */
function recordSeries(run: BenchRun): void {
  const { tracker, counters } = run;
  const totals = { open: tracker.openCount, delivered: tracker.delivered, connects: counters.opens, reconnects: counters.reconnectTotal, errors: counters.errorTotal };
  run.series.tick(performance.now() - run.startedAt, totals, run.leak.latest, run.lag.intervalMaxMs(), run.latency.roll());
}

/**
 * Events are expected at the clients open when they are scheduled: let the fleet finish
 * connecting first. Not one stream open means there is nothing to measure, and the reason is
 * the answer.
 */
async function waitForFleet(run: BenchRun): Promise<void> {
  const { signal } = run.hooks;
  await run.fleet.waitForOpen(Math.min(run.plan.connectTimeoutMs, OPEN_WAIT_CAP_MS), signal);
  if (!signal.aborted && run.population.size > 0 && run.counters.opens === 0) throw noStreamError(run.counters, run.population.size, run.plan.auth !== undefined);
}

/**
 * Shards publish one schedule between them: every shard starts it at the same wall-clock
 * instant (`startAtMs`, required when sharded), so each can expect the others' events and all
 * end together. A shard ready late still keeps to the shared clock (its own events due before
 * it was ready go out at once, and their latency shows it).
 */
async function waitForSharedStart(run: BenchRun): Promise<number> {
  const { startAtMs, shard } = run.options;
  if (shard === undefined || startAtMs === undefined) return performance.now();
  const waitMs = startAtMs - Date.now();
  if (waitMs > 0) await sleep(waitMs, run.hooks.signal);
  else if (waitMs < -1_000) run.issues.notice(`this shard's fleet was ready ${(-waitMs / 1000).toFixed(1)} s after the shared start (--start-at): its events due before then go out late`);
  return performance.now() + Math.min(0, startAtMs - Date.now());
}

/** Steady state: the publish schedule on its own timer; churn and the stall watchdog per tick. */
async function runSteadyState(run: BenchRun, steadyStart: number): Promise<void> {
  const { plan, hooks, tracker } = run;
  if (hooks.signal.aborted) return;
  run.phase = 'steady';
  const steadyEnd = steadyStart + plan.durationMs;
  run.steady.startedAt = performance.now();
  run.steady.uptimeAreaAtStart = run.counters.uptime.areaAt(run.steady.startedAt);
  run.schedule = startScheduleFor(run, steadyStart);
  run.timers.sweep = setInterval(() => tracker.sweep(performance.now()), SWEEP_MS);
  run.timers.sweep.unref();
  try {
    while (!hooks.signal.aborted && run.issues.bug === undefined) {
      const now = performance.now();
      if (now >= steadyEnd) return;
      run.fleet.tick(now);
      await sleep(Math.min(TICK_MS, steadyEnd - now), hooks.signal);
    }
  } finally {
    const endedAt = performance.now();
    const spanMs = endedAt - run.steady.startedAt;
    run.steady.meanOpen = spanMs <= 0 ? null : (run.counters.uptime.areaAt(endedAt) - run.steady.uptimeAreaAtStart) / spanMs;
  }
}

function startScheduleFor(run: BenchRun, startAt: number): PublishSchedule | undefined {
  const { plan, producer } = run;
  const publish = plan.publish;
  if (publish === undefined || producer === undefined) return undefined;
  const count = Math.floor((plan.durationMs / 1000) * publish.rate);
  if (count === 0) return undefined;
  const shard = run.options.shard;
  run.steady.scheduleStartWall = Date.now() + (startAt - performance.now());
  return startPublishSchedule(
    {
      producer,
      template: compileTemplate(publish.body),
      marker: run.marker,
      tracker: run.tracker,
      startAt,
      ratePerSecond: publish.rate,
      count,
      isOwn: (seq) => shard === undefined || seq % shard.count === shard.index - 1,
      onPublished: (_seq, result) => {
        const notice = receiptNotice(producer, result);
        if (notice !== undefined) run.issues.notice(notice);
        return undefined;
      },
      onFailed: (_seq, message, _callMs, hint) => run.issues.notice(`publish failed: ${message}${hint === undefined ? '' : ` (hint: ${hint})`}`),
    },
    run.hooks.signal,
  );
}

/** Drain: send nothing more, let the last events arrive (up to their timeout). Ctrl-C here does not wait for slow publishes. */
async function drain(run: BenchRun): Promise<void> {
  const { hooks, tracker } = run;
  run.phase = 'draining';
  run.schedule?.stop();
  if (run.schedule !== undefined && !(await run.schedule.settle(hooks.signal))) return;
  const drainEnd = performance.now() + (hooks.signal.aborted ? 0 : (run.plan.publish?.timeoutMs ?? 5_000));
  while (tracker.inFlight > 0 && performance.now() < drainEnd) {
    tracker.sweep(performance.now());
    if (!(await sleep(50, hooks.signal))) return;
  }
}

/** Closes every stream and the producer; settles what is still in flight. Safe to call twice. */
async function stopFleet(run: BenchRun): Promise<void> {
  if (run.isFleetStopped) return;
  run.isFleetStopped = true;
  run.lag.stop();
  run.schedule?.stop();
  if (run.timers.sweep !== undefined) clearInterval(run.timers.sweep);
  run.tracker.sweep(performance.now(), true);
  await run.leak.stopSampling();
  await run.fleet.stop();
  await run.producer?.close().catch(() => undefined);
}

/**
 * Settle: the server should count the streams down to where it started. Already interrupted:
 * a short settle that a second Ctrl-C (which exits) can cut. Otherwise a Ctrl-C now ends the
 * settle early, and the leak verdict becomes unknown rather than a guess.
 */
async function settleServer(run: BenchRun): Promise<void> {
  const { hooks, plan } = run;
  run.phase = 'settling';
  hooks.onProgress?.(run.progress.snapshot(run.phase));
  await run.leak.settle(plan.leakGraceMs, hooks.signal);
}

/** Stops progress and closes the dispatcher. Safe to call twice. */
async function release(run: BenchRun): Promise<void> {
  if (run.isReleased) return;
  run.isReleased = true;
  if (run.timers.progress !== undefined) clearInterval(run.timers.progress);
  recordSeries(run);
  await run.options.dispatcher?.close().catch(() => undefined);
}

function finish(run: BenchRun): BenchResult {
  return assembleBenchResult({
    plan: run.plan,
    shard: run.options.shard,
    runId: run.runId,
    version: run.options.version,
    startedAt: run.startedAtWall,
    endedAt: new Date(),
    planned: run.population.size,
    counters: run.counters,
    deliveries: run.tracker,
    latency: run.latency.total(),
    series: run.series.finish(),
    published: run.schedule?.sent ?? 0,
    publishErrors: run.schedule?.failed ?? 0,
    leak: run.leak.report(),
    self: measureSelf(run.self, run.lag.stop()),
    isInterrupted: run.hooks.signal.aborted,
    identity: { policy: identityPolicyOf(run.plan.auth), description: describeIdentity(identityPolicyOf(run.plan.auth), run.plan.clients, 'clients') },
    meanOpen: run.steady.meanOpen,
    schedule: scheduleOf(run),
  });
}

function scheduleOf(run: BenchRun): NonNullable<BenchResult['schedule']> | null {
  const publish = run.plan.publish;
  if (publish === undefined) return null;
  const startAt = run.options.startAtMs ?? run.steady.scheduleStartWall;
  return { startAt: startAt === null ? null : new Date(startAt).toISOString(), ratePerSecond: publish.rate, events: Math.floor((run.plan.durationMs / 1000) * publish.rate) };
}

/** Why not a single client could open its stream, as the typed error the CLI reports. */
function noStreamError(counters: FleetCounters, clients: number, hasCredentials: boolean): SsekitError {
  const example = (kind: string): string => counters.errorExamples.get(kind) ?? kind;
  if (counters.errors.has('status-4xx')) {
    const hint = hasCredentials ? 'check the token, the claims (role, ids) and the stream path' : 'no token was sent: give --token (SSEKIT_TOKEN), --token-file, or mint one per client with --jwt-secret and --role';
    return new HttpStatusError(0, `every client was refused: ${example('status-4xx')} (${clients} clients)`, { hint });
  }
  if (counters.errors.has('protocol')) return new ProtocolError('SSEKIT_NOT_EVENT_STREAM', `the target is not an SSE stream: ${example('protocol')}`, { hint: 'is this the stream endpoint?' });
  if (counters.errors.has('status-204')) return new HttpStatusError(204, 'the server answered 204 No Content to every client: there is no stream to measure');
  if (counters.errors.has('status-5xx')) return new ConnectError(`the server keeps failing: ${example('status-5xx')}`);
  return new ConnectError(`no client could open its stream: ${counters.errors.has('connect') ? example('connect') : 'no answer in time'}`, { hint: 'is the server running? check --target and the stream path' });
}
