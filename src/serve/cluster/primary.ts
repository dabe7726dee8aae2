/**
 * The primary process of `serve --workers N` (issue 14 point 3): N worker processes share one
 * port through node:cluster (round-robin: the primary accepts and hands each connection to the
 * next worker, so streams spread evenly and no worker meets its file limit before the others).
 * The primary serves no HTTP itself; it is the hub between the workers:
 * - **bus**: a worker's publish comes here, gets the next number on its channel, and goes to every
 *   subscribed worker in one order, so every worker sees the same messages with the same `seq`
 *   (the gateway's `id:`s agree across workers, and Last-Event-ID resumes on any of them). The last
 *   `historySize` messages per channel are kept for a replacement worker to catch up on.
 * - **ids** (`nextId`) from one set of counters; **per-user stream limits** for the whole server
 *   (`limits.ts`); **gather**: `/metrics` and the JSON stats on any worker ask here, and the
 *   primary asks every worker (why here and not worker to worker: a worker talks only to its
 *   primary, and one place that knows which workers are alive can answer for a dead one).
 * - **lifecycle**: worker 1 starts first (a bad port or an unreachable Redis then fails once, with
 *   that worker's message and exit code), then the others; a worker that dies later is replaced
 *   in its slot (with a back-off if it keeps dying young) and its clients' reconnects land on the
 *   live workers meanwhile. Stop sends `shutdown` to every worker and waits for them.
 * With `--redis`, workers use Redis for events and ids as separate processes do; limits, gather
 * and lifecycle still go through the primary.
 */
import cluster, { type Worker } from 'node:cluster';
import { HttpError } from '../http.js';
import type { ServeLogger } from '../log.js';
import { ClusterLimits } from './limits.js';
import { WORKER_ENV, type HistoryEntry, type PeerAnswer, type PrimaryMessage, type WorkerMessage, type WorkerRequest } from './messages.js';

/** How to run the workers. */
export interface ClusterOptions {
  readonly workers: number;
  /** The script every worker runs and its arguments (the CLI's own command line). */
  readonly exec: string;
  readonly args: readonly string[];
  /** Messages kept per bus channel for replacement workers. */
  readonly historySize: number;
  readonly log: ServeLogger;
  /** How long a gather waits for a worker before counting it missing (ms). Default 2000. */
  readonly gatherTimeoutMs?: number;
}

/** What the workers said once all of them listened. */
export interface ClusterReady {
  readonly url: string;
  /** Worker 1's description of what it serves (for the banner). */
  readonly summary: unknown;
  readonly pids: readonly number[];
}

/** A worker exited before it listened; `exitCode` is its own (it printed why). */
export class WorkerStartError extends Error {
  readonly exitCode: number;
  constructor(worker: number, exitCode: number) {
    super(`worker ${worker} exited with code ${exitCode} before listening`);
    this.exitCode = exitCode;
  }
}

interface Slot {
  readonly number: number;
  worker: Worker | undefined;
  pid: number | undefined;
  isReady: boolean;
  startedAtMs: number;
  /** Deaths in a row of a worker that lived under `YOUNG_MS`. */
  youngDeaths: number;
}

interface PendingGather {
  readonly answers: PeerAnswer[];
  readonly waitingFor: Set<number>;
  readonly finish: () => void;
}

/** A worker that dies younger than this is restarted with a back-off. */
const YOUNG_MS = 5000;

/** A ring of the last N messages of one channel. */
class History {
  private readonly capacity: number;
  private entries: HistoryEntry[] = [];
  private start = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  push(entry: HistoryEntry): void {
    if (this.capacity <= 0) return;
    if (this.entries.length < this.capacity) this.entries.push(entry);
    else {
      this.entries[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  all(): HistoryEntry[] {
    return [...this.entries.slice(this.start), ...this.entries.slice(0, this.start)];
  }
}

/** The running cluster. */
export class ServeCluster {
  private readonly options: ClusterOptions;
  private readonly slots: Slot[] = [];
  private readonly subscribers = new Map<string, Set<number>>();
  private readonly sequences = new Map<string, number>();
  private readonly histories = new Map<string, History>();
  private readonly counters = new Map<string, number>();
  private readonly limits = new ClusterLimits();
  private readonly gathers = new Map<number, PendingGather>();
  private nextGatherId = 1;
  private isStarted = false;
  private isStopping = false;
  private onStartFailure: ((error: Error) => void) | undefined;
  private onReady: ((slot: Slot, url: string, summary: unknown) => void) | undefined;

  constructor(options: ClusterOptions) {
    this.options = options;
    for (let number = 1; number <= options.workers; number += 1) this.slots.push({ number, worker: undefined, pid: undefined, isReady: false, startedAtMs: 0, youngDeaths: 0 });
    // Workers get no stdin: only the primary watches it (`--exit-on-stdin-end`).
    cluster.setupPrimary({ exec: options.exec, args: [...options.args], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  }

  /** Starts worker 1, then the others; resolves once every worker listens. */
  async start(): Promise<ClusterReady> {
    const [first, ...rest] = this.slots;
    if (first === undefined) throw new Error('no workers');
    const { url, summary } = await this.startSlots([first]);
    await this.startSlots(rest);
    this.isStarted = true;
    return { url, summary, pids: this.pids() };
  }

  /** Live workers' process ids, by slot. */
  pids(): number[] {
    return this.slots.flatMap((slot) => (slot.pid === undefined ? [] : [slot.pid]));
  }

  /** Asks every worker to shut down cleanly and waits for them (`forceAfterMs`, then SIGKILL). */
  async stop(forceAfterMs = 10_000): Promise<void> {
    this.isStopping = true;
    const exits = this.slots.flatMap((slot) => (slot.worker === undefined || slot.worker.isDead() ? [] : [new Promise<void>((resolve) => slot.worker?.once('exit', () => resolve()))]));
    for (const slot of this.slots) this.send(slot.number, { t: 'shutdown' });
    const force = setTimeout(() => {
      for (const slot of this.slots) if (slot.worker !== undefined && !slot.worker.isDead()) slot.worker.process.kill('SIGKILL');
    }, forceAfterMs);
    await Promise.all(exits);
    clearTimeout(force);
  }

  private startSlots(slots: readonly Slot[]): Promise<{ url: string; summary: unknown }> {
    return new Promise((resolve, reject) => {
      let pending = slots.length;
      let first: { url: string; summary: unknown } | undefined;
      if (pending === 0) resolve({ url: '', summary: undefined });
      this.onStartFailure = reject;
      this.onReady = (_slot, url, summary) => {
        first ??= { url, summary };
        pending -= 1;
        if (pending === 0) resolve(first);
      };
      for (const slot of slots) this.fork(slot);
    });
  }

  private fork(slot: Slot): void {
    const worker = cluster.fork({ [WORKER_ENV]: String(slot.number) });
    slot.worker = worker;
    slot.pid = worker.process.pid;
    slot.isReady = false;
    slot.startedAtMs = Date.now();
    worker.on('message', (message: WorkerMessage) => this.onMessage(slot, message));
    // A send racing the worker's death fails there too; the 'exit' that follows does the rest.
    worker.on('error', () => undefined);
    worker.once('exit', (code, signal) => this.onExit(slot, worker, code, signal));
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    const wasReady = slot.isReady;
    slot.worker = undefined;
    slot.pid = undefined;
    slot.isReady = false;
    for (const members of this.subscribers.values()) members.delete(slot.number);
    this.limits.forgetWorker(slot.number);
    for (const gather of this.gathers.values()) this.answerGather(gather, { worker: slot.number, isMissing: true });
    if (this.isStopping) return;
    if (!this.isStarted && !wasReady) {
      this.onStartFailure?.(new WorkerStartError(slot.number, code ?? 1));
      void this.stop(2000);
      return;
    }
    this.options.log('warn', 'worker exited; starting a replacement', { worker: slot.number, pid: worker.process.pid, code, signal });
    this.replace(slot);
  }

  private replace(slot: Slot): void {
    const livedMs = Date.now() - slot.startedAtMs;
    slot.youngDeaths = livedMs < YOUNG_MS ? slot.youngDeaths + 1 : 0;
    const delayMs = slot.youngDeaths === 0 ? 0 : Math.min(10_000, 250 * 2 ** slot.youngDeaths);
    const timer = setTimeout(() => {
      if (!this.isStopping) this.fork(slot);
    }, delayMs);
    timer.unref();
  }

  private onMessage(slot: Slot, message: WorkerMessage): void {
    switch (message.t) {
      case 'req':
        this.answer(slot, message.id, message.req);
        break;
      case 'release':
        this.limits.release(message.key, { worker: slot.number, holder: message.holder });
        break;
      case 'collected': {
        const gather = this.gathers.get(message.id);
        if (gather !== undefined) this.answerGather(gather, { worker: slot.number, value: message.value });
        break;
      }
      case 'ready':
        slot.isReady = true;
        if (this.isStarted) this.options.log('info', 'worker started', { worker: slot.number, pid: message.pid });
        this.onReady?.(slot, message.url, message.summary);
        break;
    }
  }

  private answer(slot: Slot, id: number, req: WorkerRequest): void {
    try {
      const value = this.handle(slot, req);
      if (value instanceof Promise) value.then((result) => this.send(slot.number, { t: 'res', id, value: result }), (error: unknown) => this.fail(slot, id, error));
      else this.send(slot.number, { t: 'res', id, value });
    } catch (error) {
      this.fail(slot, id, error);
    }
  }

  private fail(slot: Slot, id: number, error: unknown): void {
    const failure = error instanceof HttpError ? { status: error.status, code: error.code, message: error.message } : { message: error instanceof Error ? error.message : String(error) };
    this.send(slot.number, { t: 'res', id, error: failure });
  }

  private handle(slot: Slot, req: WorkerRequest): unknown {
    switch (req.op) {
      case 'publish':
        this.publish(req.channel, req.message, slot.number);
        return undefined;
      case 'next-id': {
        const next = (this.counters.get(req.counter) ?? 0) + 1;
        this.counters.set(req.counter, next);
        return next;
      }
      case 'subscribe': {
        const members = this.subscribers.get(req.channel) ?? new Set<number>();
        members.add(slot.number);
        this.subscribers.set(req.channel, members);
        return this.histories.get(req.channel)?.all() ?? [];
      }
      case 'acquire': {
        const evicted = this.limits.acquire({ key: req.key, max: req.max, policy: req.policy }, { worker: slot.number, holder: req.holder });
        for (const holder of evicted) this.send(holder.worker, { t: 'evict', holder: holder.holder });
        return undefined;
      }
      case 'gather':
        return this.gather(req.kind);
    }
  }

  private publish(channel: string, message: string, origin: number): void {
    const seq = (this.sequences.get(channel) ?? 0) + 1;
    this.sequences.set(channel, seq);
    let history = this.histories.get(channel);
    if (history === undefined) {
      history = new History(this.options.historySize);
      this.histories.set(channel, history);
    }
    history.push({ seq, message });
    for (const number of this.subscribers.get(channel) ?? []) this.send(number, { t: 'bus', channel, seq, message, origin });
  }

  private gather(kind: string): Promise<PeerAnswer[]> {
    return new Promise((resolve) => {
      const id = this.nextGatherId;
      this.nextGatherId += 1;
      const answers: PeerAnswer[] = [];
      const waitingFor = new Set<number>();
      const timer = setTimeout(() => {
        for (const number of waitingFor) answers.push({ worker: number, isMissing: true });
        waitingFor.clear();
        gather.finish();
      }, this.options.gatherTimeoutMs ?? 2000);
      const gather: PendingGather = {
        answers,
        waitingFor,
        finish: () => {
          clearTimeout(timer);
          this.gathers.delete(id);
          resolve(answers);
        },
      };
      for (const slot of this.slots) {
        if (slot.isReady && slot.worker !== undefined) waitingFor.add(slot.number);
        else answers.push({ worker: slot.number, isMissing: true });
      }
      this.gathers.set(id, gather);
      if (waitingFor.size === 0) gather.finish();
      for (const number of waitingFor) this.send(number, { t: 'collect', id, kind });
    });
  }

  private answerGather(gather: PendingGather, answer: PeerAnswer): void {
    if (!gather.waitingFor.delete(answer.worker)) return;
    gather.answers.push(answer);
    if (gather.waitingFor.size === 0) gather.finish();
  }

  private send(number: number, message: PrimaryMessage): void {
    const worker = this.slots[number - 1]?.worker;
    if (worker === undefined || worker.isDead() || !worker.isConnected()) return;
    worker.send(message);
  }
}
