/**
 * `bench`'s engine: ramp up a fleet of reconnecting clients, churn them, publish on an
 * open-model schedule, track every delivery, sample the server's own stream count, then close
 * everything, wait for the server to settle, and judge leaks and thresholds. A `BenchResult`
 * always comes back, Ctrl-C included (`endReason: 'interrupted'`).
 */
import { buildConnector, type Dispatcher } from 'undici';
import { rootCertificates } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { ConnectError, HttpStatusError, ProtocolError, UsageError, type SsekitError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { settleOrAbort, sleep } from '../core/sleep.js';
import { createMarkerCodec } from '../metrics/correlate.js';
import { createDeliveryTracker } from '../metrics/delivery-tracker.js';
import { createLatencyHistogram, summarizeLatency, type LatencyHistogram } from '../metrics/histogram.js';
import { evaluateThresholds, parseThreshold } from '../metrics/thresholds.js';
import type { Producer } from '../producers/producer.js';
import { compileTemplate } from '../producers/template.js';
import { BenchClient, type ClientShared } from './client.js';
import { createFleetStats, mapToRecord, type FleetStats } from './fleet-stats.js';
import { credentialsFor } from './identities.js';
import { createLeakSampler, type ReadServerCount } from './leak.js';
import { RESULT_SCHEMA_VERSION, thresholdFiguresOf, type BenchResult, type HistogramBlock } from '../metrics/bench-result.js';
import { hashPlan, resolveAgainst, type BenchPlan } from './scenario.js';
import { countOwnSockets } from './self-usage.js';

/** Everything `runBench` needs besides the plan. */
export interface BenchRunOptions {
  readonly plan: BenchPlan;
  /** 1-based shard index and count; undefined = the whole population. */
  readonly shard?: { readonly index: number; readonly count: number } | undefined;
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
  readonly extraCaPem?: readonly string[] | undefined;
  readonly isInsecure?: boolean | undefined;
  /** The dispatcher behind the producer and the server-count reader: runBench closes it
   * before it counts its own sockets (an idle keep-alive socket is not a leak). */
  readonly dispatcher?: Dispatcher | undefined;
  readonly version: string;
}

/** A periodic snapshot for live progress (never one per event). */
export interface BenchProgress {
  readonly phase: 'ramp-up' | 'steady' | 'draining' | 'settling';
  readonly elapsedMs: number;
  readonly open: number;
  readonly planned: number;
  readonly eventsPerSecond: number;
  readonly delivered: number;
  readonly lost: number;
  readonly published: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly reconnects: number;
  readonly server: number | undefined;
}

/** Hooks. */
export interface BenchHooks {
  readonly signal: AbortSignal;
  onProgress?(progress: BenchProgress): void;
  onNotice?(text: string): void;
}

const TICK_MS = 100;
const PROGRESS_MS = 1000;

/** Runs the bench; never throws for run-time failures (they are in the result). */
export async function runBench(options: BenchRunOptions, hooks: BenchHooks): Promise<BenchResult> {
  const { plan } = options;
  const shard = options.shard;
  const startedAtWall = new Date();
  const t0 = performance.now();
  const socketsAtStart = countOwnSockets();
  const cpuStart = process.cpuUsage();
  const runId = options.runId ?? (shard === undefined ? randomBytes(4).toString('hex') : hashPlan(plan).slice(0, 8));

  // The client population of this shard: global indexes g with g % count == index - 1.
  const globalIndexes: number[] = [];
  for (let g = 0; g < plan.clients; g++) if (shard === undefined || g % shard.count === shard.index - 1) globalIndexes.push(g);
  const n = globalIndexes.length;

  const latency = createLatencyHistogram();
  const stats = createFleetStats();
  const marker = createMarkerCodec(runId);
  const timeoutMs = plan.publish?.timeoutMs ?? 5_000;
  let subscribers: Uint8Array | undefined;
  const expectAt = plan.publish?.expectAt;
  if (expectAt !== undefined) {
    subscribers = new Uint8Array(n);
    for (let i = 0; i < n; i++) subscribers[i] = expectAt.includes(plan.streams[(globalIndexes[i] as number) % plan.streams.length] as string) ? 1 : 0;
  }
  const tracker = createDeliveryTracker({ clients: n, marker, timeoutMs, histogram: latency, subscribers });
  const target = new URL(plan.target);
  const streamUrls = plan.streams.map((s) => new URL(resolveAgainst(plan.target, s)));
  const origins = new Set(streamUrls.map((u) => u.origin));
  if (origins.size > 1) throw new UsageError(`all streams must be on one origin (got ${[...origins].join(', ')})`);
  const origin = streamUrls[0]?.origin ?? target.origin;
  const connector = buildConnector({
    timeout: plan.connectTimeoutMs,
    ...(options.extraCaPem !== undefined && options.extraCaPem.length > 0 ? { ca: [...rootCertificates, ...options.extraCaPem] } : {}),
    ...(options.isInsecure ? { rejectUnauthorized: false } : {}),
  });
  const shared: ClientShared = {
    origin,
    connector,
    stats,
    maxEventBytes: plan.maxEventBytes,
    connectTimeoutMs: plan.connectTimeoutMs,
    retryInitialMs: 500,
    retryMaxMs: 30_000,
    onData: tracker.onData,
    onBug: (error) => {
      bug ??= error;
    },
    ignoredTypes: plan.publish?.ignoreEventTypes === undefined ? undefined : new Set(plan.publish.ignoreEventTypes),
    onOpen: tracker.onOpen,
    onClose: tracker.onClose,
  };

  const leak = createLeakSampler({
    read: options.readServerCount,
    source: plan.serverStats === undefined ? null : redactUrl(resolveAgainst(plan.target, plan.serverStats.url)),
    metric: plan.serverStats?.metric ?? null,
    startedAt: t0,
  });

  const clients: BenchClient[] = new Array<BenchClient>(n);
  const rotations = new Uint16Array(n);
  const sideStreams = new Set<BenchClient>();
  let phase: BenchProgress['phase'] = 'ramp-up';
  let published = 0;
  let publishErrors = 0;
  let interrupted = hooks.signal.aborted;
  let bug: unknown;
  let stopPublishing = false;
  const notices = new Set<string>();
  const notice = (text: string): void => {
    if (notices.has(text)) return;
    notices.add(text);
    hooks.onNotice?.(text);
  };

  const baseHeaders: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache', ...options.headers };
  const pathFor = (local: number): string => {
    const url = streamUrls[(globalIndexes[local] as number) % streamUrls.length] as URL;
    return `${url.pathname}${url.search}`;
  };
  const makeClient = async (local: number): Promise<BenchClient> => {
    const vu = globalIndexes[local] as number;
    const credentials = await credentialsFor(plan.auth, vu);
    const path = pathFor(local);
    return new BenchClient(local, shared, path + credentials.querySuffix(path), { ...baseHeaders, ...credentials.headers });
  };

  let producer: Producer | undefined;
  const inFlightPublishes = new Set<Promise<void>>();
  const template = plan.publish === undefined ? undefined : compileTemplate(plan.publish.body);

  let sweepTimer: NodeJS.Timeout | undefined;
  let progressTimer: NodeJS.Timeout | undefined;
  let lastEvents = 0;
  let lastProgressAt = performance.now();
  const snapshot = (): BenchProgress => {
    const now = performance.now();
    const eventsPerSecond = ((stats.eventsReceived - lastEvents) * 1000) / Math.max(1, now - lastProgressAt);
    lastEvents = stats.eventsReceived;
    lastProgressAt = now;
    return {
      phase,
      elapsedMs: now - t0,
      open: tracker.openCount,
      planned: n,
      eventsPerSecond,
      delivered: tracker.delivered,
      lost: tracker.lost,
      published,
      p99Ms: latency.percentileMs(99),
      errors: stats.errorTotal,
      reconnects: stats.reconnectTotal,
      server: leak.latest,
    };
  };

  try {
    await leak.takeBaseline();
    if (plan.serverStats !== undefined && options.readServerCount !== undefined) {
      const baseline = leak.report().baseline;
      if (baseline === null) notice(`cannot read ${plan.serverStats.metric} from ${leak.report().source ?? ''}: leak detection off for this run`);
    }
    if (plan.publish !== undefined && options.createProducer !== undefined) {
      producer = options.createProducer(resolveAgainst(plan.target, plan.publish.producer));
      await producer.open();
    }
    leak.startSampling(() => tracker.openCount);
    progressTimer = setInterval(() => hooks.onProgress?.(snapshot()), PROGRESS_MS);
    progressTimer.unref();

    // Ramp-up: clients start evenly spread over rampUpMs.
    const rampStart = performance.now();
    for (let i = 0; i < n && !interrupted; i++) {
      const dueAt = rampStart + (n <= 1 ? 0 : (plan.rampUpMs * i) / (n - 1));
      const waitMs = dueAt - performance.now();
      if (waitMs > 2 && !(await sleep(waitMs, hooks.signal))) interrupted = true;
      if (interrupted) break;
      const client = await makeClient(i);
      clients[i] = client;
      client.start();
    }

    // Events are expected at the clients open when they are scheduled: let the fleet finish
    // connecting first (clients refused for good never open, so this is bounded).
    const openDeadline = performance.now() + plan.connectTimeoutMs;
    while (!interrupted && tracker.openCount + stats.refusedClients < n && performance.now() < openDeadline) {
      if (!(await sleep(20, hooks.signal))) interrupted = true;
    }
    // Not one stream: there is nothing to measure, and the reason is the answer.
    if (!interrupted && n > 0 && stats.opens === 0) throw noStreamError(stats, n);
    // Shards publish one schedule between them: start it at the same wall-clock instant in
    // every shard (`startAt`, or the next whole 2 s), so each can expect the others' events.
    if (shard !== undefined && !interrupted) {
      const startAtMs = options.startAtMs ?? Math.ceil((Date.now() + 500) / 2000) * 2000;
      const waitMs = startAtMs - Date.now();
      if (waitMs > 0 && !(await sleep(waitMs, hooks.signal))) interrupted = true;
    }

    // Steady state: churn, stall watchdog, publish schedule, sweeps.
    phase = 'steady';
    const steadyStart = performance.now();
    const steadyEnd = steadyStart + plan.durationMs;
    const rate = plan.publish?.rate ?? 0;
    const totalEvents = plan.publish === undefined ? 0 : Math.floor((plan.durationMs / 1000) * rate);
    let churnCredit = 0;
    // The publisher runs on its own timer, to the millisecond: the 100 ms tick below would add
    // up to a tick of our own lag to every latency measured from the schedule.
    const publisher = totalEvents === 0 ? Promise.resolve() : publishSchedule(steadyStart, rate, totalEvents);
    sweepTimer = setInterval(() => tracker.sweep(performance.now()), 250);
    sweepTimer.unref();
    while (!interrupted) {
      const now = performance.now();
      if (now >= steadyEnd) break;
      // Churn: a fraction of clients per second, spread over ticks.
      if (plan.churnRate > 0 && n > 0) {
        churnCredit += (plan.churnRate * n * TICK_MS) / 1000;
        while (churnCredit >= 1) {
          churnCredit -= 1;
          churnOne();
        }
      }
      // Stall watchdog: one pass over the fleet per tick, not a timer per stream.
      if (plan.heartbeatTimeoutMs > 0) {
        for (let i = 0; i < n; i++) {
          const client = clients[i];
          if (client !== undefined && client.isOpen && now - client.lastByteAt > plan.heartbeatTimeoutMs) client.stall();
        }
      }
      if (bug !== undefined) break;
      if (!(await sleep(TICK_MS, hooks.signal))) interrupted = true;
    }

    // Drain: let the last events arrive (up to their timeout), then close everything.
    phase = 'draining';
    stopPublishing = true;
    // Ctrl-C here must not wait for slow publishes (up to the producer's timeout).
    if (!(await settleOrAbort(Promise.all([publisher, ...inFlightPublishes]), hooks.signal))) interrupted = true;
    const drainEnd = performance.now() + (interrupted ? 0 : timeoutMs);
    while (tracker.inFlight > 0 && performance.now() < drainEnd) {
      tracker.sweep(performance.now());
      if (!(await sleep(50, hooks.signal))) {
        interrupted = true;
        break;
      }
    }
  } catch (error) {
    if (progressTimer !== undefined) clearInterval(progressTimer);
    await options.dispatcher?.close().catch(() => undefined);
    throw error;
  } finally {
    if (sweepTimer !== undefined) clearInterval(sweepTimer);
    tracker.sweep(performance.now(), true);
    await leak.stopSampling();
    await Promise.all([...clients.filter((c) => c !== undefined).map((c) => c.stop()), ...[...sideStreams].map((c) => c.stop())]);
    await producer?.close().catch(() => undefined);
  }

  // A bug in the per-event path ends the run as what it is (exit 1), after cleaning up.
  if (bug !== undefined) {
    if (progressTimer !== undefined) clearInterval(progressTimer);
    await options.dispatcher?.close().catch(() => undefined);
    throw bug;
  }

  // Settle: the server should count the streams down to where it started.
  phase = 'settling';
  hooks.onProgress?.(snapshot());
  // Already interrupted: a short settle that a second Ctrl-C (which exits) can cut. Otherwise a
  // Ctrl-C now ends the settle early, and the leak verdict becomes unknown rather than a guess.
  await leak.settle(interrupted ? Math.min(plan.leakGraceMs, 2_000) : plan.leakGraceMs, interrupted ? new AbortController().signal : hooks.signal);
  if (hooks.signal.aborted) interrupted = true;
  if (progressTimer !== undefined) clearInterval(progressTimer);
  await options.dispatcher?.close().catch(() => undefined);
  // undici closes sockets asynchronously; give them a moment before counting ours.
  await sleep(100, new AbortController().signal);
  const socketsAtEnd = countOwnSockets();
  const leakReport = leak.report();

  const cpu = process.cpuUsage(cpuStart);
  const memory = process.memoryUsage();
  const counts = {
    published,
    publishErrors,
    expectedDeliveries: tracker.expectedDeliveries,
    delivered: tracker.delivered,
    lost: tracker.lost,
    duplicated: tracker.duplicated,
    outOfOrder: tracker.outOfOrder,
    recovered: tracker.recovered,
    missedDuringReconnect: tracker.missedDuringReconnect,
    received: stats.eventsReceived,
    bytesReceived: stats.bytesReceived,
  };
  const endedAtWall = new Date();
  const measured: Omit<BenchResult, 'thresholds' | 'endReason'> = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'bench',
    tool: { name: 'ssekit', version: options.version },
    scenario: { name: plan.name, hash: hashPlan(plan) },
    runId,
    shard: shard ?? null,
    startedAt: startedAtWall.toISOString(),
    endedAt: endedAtWall.toISOString(),
    durationMs: endedAtWall.getTime() - startedAtWall.getTime(),
    target: redactUrl(plan.target),
    clients: { planned: n, peakOpen: tracker.peakOpen, opens: stats.opens },
    connect: { headers: block(stats.connectHeaders), firstEvent: block(stats.connectFirstEvent) },
    latency: block(latency),
    events: counts,
    reconnects: { total: stats.reconnectTotal, byReason: mapToRecord(stats.reconnects) },
    statuses: mapToRecord(stats.statuses),
    errors: { total: stats.errorTotal, byClass: mapToRecord(stats.errors) },
    leak: leakReport,
    self: {
      cpuUserMs: Math.round(cpu.user / 1000),
      cpuSystemMs: Math.round(cpu.system / 1000),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      heapUsedBytes: memory.heapUsed,
      socketsAtStart,
      socketsAtEnd,
    },
  };
  const thresholds = evaluateThresholds(plan.thresholds.map((t) => parseThreshold(t)), thresholdFiguresOf(measured));
  const failed = thresholds.some((t) => !t.passed);
  return { ...measured, endReason: interrupted ? 'interrupted' : failed ? 'failed' : 'passed', thresholds };

  /** Publishes events 0..total-1 at their scheduled times (open model: never waits for deliveries). */
  async function publishSchedule(startAt: number, rate: number, total: number): Promise<void> {
    for (let seq = 0; seq < total && !stopPublishing; seq++) {
      const scheduledAt = startAt + (seq * 1000) / rate;
      const waitMs = scheduledAt - performance.now();
      if (waitMs > 0.5 && !(await sleep(waitMs, hooks.signal))) return;
      if (stopPublishing) return;
      const isOwn = shard === undefined || seq % shard.count === shard.index - 1;
      tracker.onScheduled(seq, scheduledAt, isOwn);
      if (!isOwn || producer === undefined || template === undefined) continue;
      published += 1;
      tracker.hold(seq);
      const pending: Promise<void> = producer
        .publish(template.render(seq, marker.markerFor(seq)))
        .then(
          () => undefined,
          (error: unknown) => {
            publishErrors += 1;
            tracker.onPublishFailed(seq);
            notice(`publish failed: ${error instanceof Error ? error.message : String(error)}`);
          },
        )
        .finally(() => {
          tracker.release(seq);
          inFlightPublishes.delete(pending);
        });
      inFlightPublishes.add(pending);
    }
  }

  function churnOne(): void {
    // Pick a random open client; a few tries are enough at any realistic open ratio.
    for (let tries = 0; tries < 8; tries++) {
      const local = Math.floor(Math.random() * n);
      const client = clients[local];
      if (client === undefined || !client.isOpen) continue;
      const backMs = 50 + Math.floor(Math.random() * 200);
      switch (plan.churnMode) {
        case 'graceful':
        case 'abrupt':
          client.churn(plan.churnMode, backMs);
          return;
        case 'token-rotation': {
          const rotation = (rotations[local] = ((rotations[local] ?? 0) + 1) & 0xffff);
          credentialsFor(plan.auth, globalIndexes[local] as number, rotation).then(
            (credentials) => {
              const path = pathFor(local);
              client.path = path + credentials.querySuffix(path);
              client.churn('token-rotation', backMs, { ...baseHeaders, ...credentials.headers });
            },
            (error: unknown) => {
              stats.countError('token');
              notice(`cannot mint a rotated token: ${error instanceof Error ? error.message : String(error)}`);
            },
          );
          return;
        }
        case 'duplicate': {
          // Seed 001's double mount: the same user opens a second stream while the first is
          // open; it lives a little while and is closed again.
          const side = new BenchClient(-1, shared, client.path, client.headers);
          sideStreams.add(side);
          side.start();
          stats.countReconnect('duplicate-open');
          const holdMs = 500 + Math.floor(Math.random() * 1500);
          setTimeout(() => {
            sideStreams.delete(side);
            void side.stop();
          }, holdMs).unref();
          return;
        }
      }
    }
  }
}

function block(histogram: LatencyHistogram): HistogramBlock {
  return { summary: summarizeLatency(histogram), hdr: histogram.encode() };
}

/** Why not a single client could open its stream, as the typed error the CLI reports. */
function noStreamError(stats: FleetStats, clients: number): SsekitError {
  const example = (kind: string): string => stats.errorExamples.get(kind) ?? kind;
  if (stats.errors.has('status-4xx')) return new HttpStatusError(0, `every client was refused: ${example('status-4xx')} (${clients} clients)`, { hint: 'check the token, the claims (role, ids) and the stream path' });
  if (stats.errors.has('protocol')) return new ProtocolError('SSEKIT_NOT_EVENT_STREAM', `the target is not an SSE stream: ${example('protocol')}`, { hint: 'is this the stream endpoint?' });
  if (stats.errors.has('status-204')) return new HttpStatusError(204, 'the server answered 204 No Content to every client: there is no stream to measure');
  if (stats.errors.has('status-5xx')) return new ConnectError(`the server keeps failing: ${example('status-5xx')}`);
  return new ConnectError(`no client could open its stream: ${stats.errors.has('connect') ? example('connect') : 'no answer in time'}`, { hint: 'is the server running? check --target and the stream path' });
}
