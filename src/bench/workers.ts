/**
 * `bench --workers N`: N shard processes on this machine, each with its own file limit (one
 * process holds about 19,000 streams) and its own loopback source address (one address gets
 * about 28,000 ports per destination). This engine drives them through an injected process
 * handle: it sums their progress snapshots, forwards one Ctrl-C to all of them (each still
 * returns its partial result), and collects their results for the caller to merge exactly.
 */
import type { BenchResult } from '../metrics/bench-result.js';
import type { BenchProgress } from './progress.js';

/** What a worker tells its parent (over IPC). */
export type WorkerMessage =
  | { readonly kind: 'progress'; readonly progress: BenchProgress }
  | { readonly kind: 'notice'; readonly text: string }
  | { readonly kind: 'result'; readonly result: BenchResult }
  | { readonly kind: 'error'; readonly message: string; readonly hint?: string | undefined; readonly exitCode: number };

/** A running worker, as the engine sees it (the CLI makes them: it knows the binary). */
export interface WorkerHandle {
  onMessage(handler: (message: WorkerMessage) => void): void;
  onExit(handler: (code: number | null) => void): void;
  /** Ctrl-C: stop and report what was measured. */
  interrupt(): void;
  /** It did not stop in time. */
  kill(): void;
}

/** How the workers ended: their results, and the ones that failed before reporting one. */
export interface WorkersOutcome {
  readonly results: readonly BenchResult[];
  readonly failures: readonly { readonly index: number; readonly message: string; readonly hint?: string | undefined; readonly exitCode: number }[];
}

/** Hooks: a summed snapshot every second; a worker's notice, prefixed with its number. */
export interface WorkersHooks {
  readonly signal: AbortSignal;
  onProgress?(progress: BenchProgress): void;
  onNotice?(text: string): void;
}

/** After Ctrl-C, how long workers get to report before they are killed. */
const INTERRUPT_GRACE_MS = 10_000;
const PROGRESS_MS = 1_000;

/** Starts `count` workers with `spawn` and waits for all of them. */
export async function runWorkers(count: number, spawn: (index: number) => WorkerHandle, hooks: WorkersHooks): Promise<WorkersOutcome> {
  const latest = new Array<BenchProgress | undefined>(count);
  const results: BenchResult[] = [];
  const failures: WorkersOutcome['failures'][number][] = [];
  const workers = Array.from({ length: count }, (_, index) => spawn(index));
  let isStopping = false;
  // Ctrl-C, or a worker that could not start (refused, unreachable): the others stop too and
  // report what they measured; the ones that do not stop in time are killed.
  const stopAll = (): void => {
    if (isStopping) return;
    isStopping = true;
    for (const worker of workers) worker.interrupt();
    killTimer = setTimeout(() => workers.forEach((w) => w.kill()), INTERRUPT_GRACE_MS);
    killTimer.unref();
  };
  let killTimer: NodeJS.Timeout | undefined;
  const exits = workers.map((worker, index) => watchWorker(worker, index, { latest, results, failures, hooks, onFailure: stopAll }));
  const progress = setInterval(() => {
    const summed = sumProgress(latest);
    if (summed !== undefined) hooks.onProgress?.(summed);
  }, PROGRESS_MS);
  progress.unref();
  if (hooks.signal.aborted) stopAll();
  else hooks.signal.addEventListener('abort', stopAll, { once: true });
  try {
    await Promise.all(exits);
  } finally {
    clearInterval(progress);
    if (killTimer !== undefined) clearTimeout(killTimer);
    hooks.signal.removeEventListener('abort', stopAll);
  }
  return { results, failures };
}

interface WorkerState {
  readonly latest: (BenchProgress | undefined)[];
  readonly results: BenchResult[];
  readonly failures: WorkersOutcome['failures'][number][];
  readonly hooks: WorkersHooks;
  readonly onFailure: () => void;
}

function watchWorker(worker: WorkerHandle, index: number, state: WorkerState): Promise<void> {
  let hasReported = false;
  worker.onMessage((message) => {
    if (message.kind === 'progress') state.latest[index] = message.progress;
    else if (message.kind === 'notice') state.hooks.onNotice?.(`worker ${index + 1}: ${message.text}`);
    else if (message.kind === 'result') {
      hasReported = true;
      state.results.push(message.result);
    } else {
      hasReported = true;
      state.failures.push({ index, message: message.message, hint: message.hint, exitCode: message.exitCode });
      state.onFailure();
    }
  });
  return new Promise((resolve) => {
    worker.onExit((code) => {
      if (!hasReported) state.failures.push({ index, message: `worker ${index + 1} exited (${code ?? 'killed'}) without a result`, exitCode: 1 });
      resolve();
    });
  });
}

/** The workers' latest snapshots as one: counts added, the worst p99, the server's figure once. */
export function sumProgress(snapshots: readonly (BenchProgress | undefined)[]): BenchProgress | undefined {
  const known = snapshots.filter((p): p is BenchProgress => p !== undefined);
  const first = known[0];
  if (first === undefined) return undefined;
  const sum = (pick: (p: BenchProgress) => number): number => known.reduce((total, p) => total + pick(p), 0);
  // Steady only while every worker is: ramp-up while any ramps, then the first phase past steady.
  const phase = known.some((p) => p.phase === 'ramp-up') ? 'ramp-up' : known.every((p) => p.phase === 'steady') ? 'steady' : known.some((p) => p.phase === 'draining') ? 'draining' : 'settling';
  return {
    phase,
    elapsedMs: Math.max(...known.map((p) => p.elapsedMs)),
    open: sum((p) => p.open),
    planned: sum((p) => p.planned),
    eventsPerSecond: sum((p) => p.eventsPerSecond),
    delivered: sum((p) => p.delivered),
    lost: sum((p) => p.lost),
    published: sum((p) => p.published),
    p99Ms: Math.max(...known.map((p) => (Number.isNaN(p.p99Ms) ? 0 : p.p99Ms))),
    errors: sum((p) => p.errors),
    reconnects: sum((p) => p.reconnects),
    server: first.server,
  };
}
