/**
 * `bench --workers N`: the process side. The parent forks N workers of this same binary and
 * hands each the validated plan over IPC (never a file or argv: it may hold a JWT secret), each
 * the shard i/N with one shared start, run id and its own loopback source address, and merges
 * their results with the same code as `stats merge`. Workers run in their own process group (a Ctrl-C
 * in the terminal reaches the parent, which forwards it) and stop when the parent goes away.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isIPv4 } from 'node:net';
import { ExitCode, SsekitError, UsageError, isSsekitError } from '../../core/errors.js';
import type { BenchPlan } from '../../bench/scenario.js';
import { hashPlan } from '../../bench/scenario.js';
import { runWorkers, type WorkerHandle, type WorkerMessage } from '../../bench/workers.js';
import { createPlanLeakSampler, createServerCountReader } from '../../bench/server-count.js';
import type { BenchResult, LeakReport } from '../../metrics/bench-result.js';
import { withStreamAgent } from '../../transport/agent.js';
import { judgeMerged, mergeShards } from '../../stats/merge.js';
import type { CliContext } from '../context.js';
import { executeBench, runWithProgress, type ResolvedHttpFlags } from './bench-action.js';

const BIN = fileURLToPath(new URL('../../../bin/ssekit.js', import.meta.url));

/** What a worker reads from its plan file. */
interface WorkerPlan {
  readonly plan: BenchPlan;
  readonly http: ResolvedHttpFlags;
  readonly runId: string;
  readonly startAtMs: number;
  readonly count: number;
  /** Per worker (by index): its source address, when the target is on loopback IPv4. */
  readonly localAddresses: readonly (string | undefined)[];
}

/** Time a worker needs to start (load, mint tokens) before its ramp: part of the shared start. */
const WORKER_START_MS = 1_500;

/**
 * The parent: N workers, their progress summed, their results merged. The server's
 * own count is read here, not by the workers: before any of them starts, while they run (beside
 * their summed open streams) and after all of them closed theirs — a worker settling while
 * another still holds streams would see a leak that is not there.
 */
export async function runWorkersFor(plan: BenchPlan, http: ResolvedHttpFlags, options: { readonly count: number; readonly runId?: string | undefined }, ctx: CliContext): Promise<BenchResult> {
  const { count } = options;
  // The shared start: after every worker started and ramped, and its fleet had time to open
  // (a second, plus a second per 10,000 clients: connecting is what takes time at scale).
  const startAtMs = Date.now() + WORKER_START_MS + plan.rampUpMs + Math.min(plan.connectTimeoutMs, 1_000 + plan.clients / 10);
  const workerPlan: WorkerPlan = { plan: { ...plan, serverStats: undefined, leakGraceMs: 0 }, http, runId: options.runId ?? hashPlan(plan).slice(0, 8), startAtMs, count, localAddresses: sourceAddresses(plan.target, count) };
  return withStreamAgent({ ...http, connectTimeoutMs: plan.connectTimeoutMs }, async (dispatcher) => {
    const leak = createPlanLeakSampler(plan, await createServerCountReader(plan, dispatcher, http.headers), performance.now());
    await leak.takeBaseline();
    return runWithProgress(ctx, plan, { startAtMs, runId: workerPlan.runId, workers: count }, async (hooks) => {
      // Sampled beside the workers' summed open streams inside the shared steady state (known
      // from the shared start), a second in from each end: their snapshots are a second old at
      // most, and the fleet is neither ramping nor closing then.
      let open = 0;
      const window = steadyWindow(startAtMs, plan.durationMs);
      const startTimer = setTimeout(() => leak.startSampling(() => open), window.startInMs);
      const stopTimer = setTimeout(() => void leak.stopSampling(), window.stopInMs);
      const { results, failures } = await runWorkers(count, (index) => spawnWorker(workerPlan, index, ctx), {
        ...hooks,
        onProgress: (progress) => {
          open = progress.open;
          hooks.onProgress?.(progress);
        },
      });
      clearTimeout(startTimer);
      clearTimeout(stopTimer);
      await leak.stopSampling();
      const first = failures[0];
      if (results.length === 0 && first !== undefined) throw new SsekitError('SSEKIT_WORKER', toExitCode(first.exitCode), first.message, { hint: first.hint });
      for (const failure of failures) hooks.onNotice?.(`worker ${failure.index + 1} failed: ${failure.message}`);
      await leak.settle(plan.leakGraceMs, ctx.signal);
      return mergeWorkers(plan, results, leak.report());
    });
  });
}

/** When, from now, the shared steady state starts and ends, each a second inside. */
function steadyWindow(startAtMs: number, durationMs: number): { startInMs: number; stopInMs: number } {
  const startInMs = Math.max(0, startAtMs - Date.now() + 1_000);
  return { startInMs, stopInMs: Math.max(startInMs, startAtMs + durationMs - Date.now() - 1_000) };
}

/** Each worker its own loopback address (127.0.0.2, 127.0.0.3, …) when the target is on 127/8. */
function sourceAddresses(target: string, count: number): (string | undefined)[] {
  const host = new URL(target).hostname;
  const isLoopbackV4 = (isIPv4(host) && host.startsWith('127.')) || host === 'localhost';
  return Array.from({ length: count }, (_, i) => (isLoopbackV4 && count > 1 ? `127.0.0.${i + 2}` : undefined));
}

function spawnWorker(plan: WorkerPlan, index: number, ctx: CliContext): WorkerHandle {
  const child: ChildProcess = fork(BIN, ['bench', '--worker', String(index)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true, env: { ...ctx.env } });
  child.send({ kind: 'plan', plan });
  child.stderr?.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.trim() !== '') ctx.stderr.write(`worker ${index + 1}: ${line}\n`);
  });
  return {
    onMessage: (handler) => void child.on('message', (message) => handler(message as WorkerMessage)),
    onExit: (handler) => void child.once('exit', (code) => handler(code)),
    interrupt: () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGINT')),
    kill: () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')),
  };
}

/**
 * The workers' shard results as one run: `stats merge` (histograms added, counts summed), the
 * parent's leak report, the machine's total memory (workers share it: merge takes the largest,
 * for shards on different machines), and the thresholds judged again on all of it.
 */
function mergeWorkers(plan: BenchPlan, results: readonly BenchResult[], leak: LeakReport): BenchResult {
  const { merged: figures, warnings } = mergeShards(results.map((r, i) => ({ file: `worker ${r.shard?.index ?? i + 1}`, result: r })));
  const maxRssBytes = results.reduce((sum, r) => sum + r.self.maxRssBytes, 0);
  // The parent's plan, not the workers' (theirs has no server figure): the same hash as a run of one process.
  const scenario = { name: plan.name, hash: hashPlan(plan) };
  const merged = { ...figures, scenario, leak, self: { ...figures.self, maxRssBytes } };
  // Judged on the parent's thresholds: the workers' plans had no server figure, so no leak guard.
  const verdict = judgeMerged(merged, plan.thresholds, results.map((r) => r.endReason));
  return { ...merged, ...verdict, diagnoses: [...(verdict.diagnoses ?? []), ...warnings] };
}

function toExitCode(code: number): SsekitError['exitCode'] {
  const known = Object.values(ExitCode) as number[];
  return (known.includes(code) ? code : ExitCode.internal) as SsekitError['exitCode'];
}

/** The plan, the parent's first message. */
function receivePlan(): Promise<WorkerPlan> {
  return new Promise((resolve, reject) => {
    if (process.send === undefined) reject(new UsageError('--worker is internal to bench --workers'));
    process.once('message', (message: { kind?: string; plan?: WorkerPlan }) => (message.kind === 'plan' && message.plan !== undefined ? resolve(message.plan) : reject(new Error('no plan from the parent'))));
  });
}

/** The worker: receive the plan, run shard i/N, report progress, notices and the result over IPC. */
export async function runAsWorker(indexText: string, ctx: CliContext): Promise<number> {
  const index = Number(indexText);
  const send = (message: WorkerMessage): Promise<void> => new Promise((resolve) => (process.send === undefined ? resolve() : process.send(message, () => resolve())));
  // The parent went away (killed): stop, as after Ctrl-C.
  const orphaned = new AbortController();
  process.once('disconnect', () => orphaned.abort());
  try {
    const plan = await receivePlan();
    const result = await executeBench(
      plan.plan,
      plan.http,
      { shard: { index: index + 1, count: plan.count }, runId: plan.runId, startAtMs: plan.startAtMs, localAddress: plan.localAddresses[index] },
      { signal: AbortSignal.any([ctx.signal, orphaned.signal]), onProgress: (progress) => void send({ kind: 'progress', progress }), onNotice: (text) => void send({ kind: 'notice', text }) },
    );
    await send({ kind: 'result', result });
    return result.endReason === 'interrupted' ? ExitCode.interrupted : result.endReason === 'passed' ? ExitCode.ok : ExitCode.gateFailed;
  } catch (error) {
    const typed = isSsekitError(error) ? error : undefined;
    await send({ kind: 'error', message: typed?.message ?? `internal error (a bug): ${error instanceof Error ? error.message : String(error)}`, hint: typed?.hint, exitCode: typed?.exitCode ?? ExitCode.internal });
    return typed?.exitCode ?? ExitCode.internal;
  }
}
