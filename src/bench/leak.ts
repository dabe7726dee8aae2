/**
 * Server-side connection-leak detection. The server's own count of open streams is sampled
 * every second beside ssekit's real count; after the run every stream is closed, and after a
 * grace period the server's count is compared with its count before the run. An excess is a
 * leak (seed 003's registry that never unregisters; CONTRACTS §2's duplicate connections). A
 * server that persistently counts fewer streams than ssekit holds has lost track of them
 * (`undercount`): its figures cannot be trusted either. A verdict is never a guess: a check
 * that could not finish is `unknown`, with the reason.
 */
import { sleep } from '../core/sleep.js';
import type { LeakReport, ServerSample } from '../metrics/bench-result.js';

/** Reads the server's count of open streams; rejects with a typed error when it cannot (the first read's error stops the run). */
export type ReadServerCount = () => Promise<number | undefined>;

/** Options for `createLeakSampler`. */
export interface LeakSamplerOptions {
  /** Without a reader the verdict is `unknown`. */
  readonly read?: ReadServerCount | undefined;
  /** Where the figure comes from (redacted) and which figure, for the report. */
  readonly source: string | null;
  readonly metric: string | null;
  /** Sampling period while the fleet runs, ms (default 1 000). */
  readonly intervalMs?: number;
  /** `performance.now()` of the run's start: sample times are relative to it. */
  readonly startedAt: number;
}

/** The sampler of one run. */
export interface LeakSampler {
  /** Reads the count before any stream opens; a failure rejects (the run cannot measure leaks). */
  takeBaseline(): Promise<void>;
  /** Samples every `intervalMs` until `stopSampling`. */
  startSampling(clientCount: () => number): void;
  stopSampling(): Promise<void>;
  /**
   * After every stream closed: polls until the count is back to the baseline or the grace ends;
   * an abort during it ends it early (the verdict is then `unknown`, never a guess). A run
   * already interrupted (`signal` aborted on entry) gets one short look instead, at most
   * `INTERRUPTED_SETTLE_MS`, that only a second Ctrl-C (which exits) can cut; an excess then
   * proves nothing.
   */
  settle(graceMs: number, signal: AbortSignal): Promise<void>;
  report(): LeakReport;
  /** The latest server figure (progress display). */
  readonly latest: number | undefined;
}

/** Ctrl-C: one more look at the server's count, not a full grace. */
export const INTERRUPTED_SETTLE_MS = 1_000;

/** Creates the sampler. */
export function createLeakSampler(options: LeakSamplerOptions): LeakSampler {
  return new ServerCountSampler(options);
}

class ServerCountSampler implements LeakSampler {
  private readonly options: LeakSamplerOptions;
  private readonly samples: ServerSample[] = [];
  private baseline: number | undefined;
  private final: number | undefined;
  private latestValue: number | undefined;
  private graceMs = 0;
  /** Settling ended by Ctrl-C before the count came back: an excess then proves nothing. */
  private isCutShort = false;
  /** The last read's failure, for the report. */
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private isReading = false;
  private pendingRead: Promise<unknown> = Promise.resolve();
  /** Samples taken while the fleet ran (the rest come from settling, with no client open). */
  private runSampleCount = 0;

  constructor(options: LeakSamplerOptions) {
    this.options = options;
  }

  get latest(): number | undefined {
    return this.latestValue;
  }

  async takeBaseline(): Promise<void> {
    const read = this.options.read;
    if (read === undefined) return;
    this.baseline = await read();
    if (this.baseline !== undefined) this.latestValue = this.baseline;
  }

  startSampling(clientCount: () => number): void {
    if (this.options.read === undefined) return;
    this.timer = setInterval(() => this.sampleOnce(clientCount()), this.options.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stopSampling(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    // A read still in flight belongs to the run, not to the settle phase after it.
    await this.pendingRead;
    this.runSampleCount = this.samples.length;
  }

  async settle(graceMs: number, runSignal: AbortSignal): Promise<void> {
    const isInterrupted = runSignal.aborted;
    this.graceMs = isInterrupted ? Math.min(graceMs, INTERRUPTED_SETTLE_MS) : graceMs;
    const signal = isInterrupted ? new AbortController().signal : runSignal;
    if (isInterrupted) this.isCutShort = true;
    if (this.options.read === undefined) return;
    const deadline = performance.now() + this.graceMs;
    for (;;) {
      this.final = await this.readSafe();
      this.record(this.final, 0);
      if (this.final !== undefined && this.baseline !== undefined && this.final <= this.baseline) {
        this.isCutShort = false;
        return;
      }
      if (performance.now() >= deadline) return;
      if (!(await sleep(Math.min(250, deadline - performance.now()), signal))) {
        this.isCutShort = true;
        return;
      }
    }
  }

  report(): LeakReport {
    const { baseline, final } = this;
    const excess = baseline !== undefined && final !== undefined ? Math.max(0, final - baseline) : null;
    const { minDrift, maxDrift, undercounted } = this.drifts();
    const reason = this.unknownReason(excess);
    const verdict: LeakReport['verdict'] = reason !== undefined ? 'unknown' : (excess ?? 0) > 0 ? 'leak' : undercounted > 0 ? 'undercount' : 'ok';
    return {
      source: this.options.source,
      metric: this.options.metric,
      baseline: baseline ?? null,
      final: final ?? null,
      // Beside `unknown` there is no number: it would read as a finding.
      leaked: verdict === 'unknown' ? null : excess,
      maxDrift,
      minDrift,
      undercounted: verdict === 'unknown' ? null : undercounted,
      graceMs: this.graceMs,
      verdict,
      ...(reason === undefined ? {} : { reason }),
      samples: this.samples,
    };
  }

  private unknownReason(excess: number | null): string | undefined {
    if (this.options.read === undefined) return 'no server figure configured (--server-stats, --server-metric)';
    if (excess === null) return `could not read ${this.options.metric ?? 'the figure'}${this.lastError === undefined ? '' : `: ${this.lastError}`}`;
    if (excess > 0 && this.isCutShort) return 'interrupted during settle: the server had not counted the streams down yet';
    return undefined;
  }

  /**
   * Drift = server − client − baseline per sample taken while the fleet ran. An undercount is
   * persistent: in most samples with streams open the server counted clearly fewer than ssekit
   * held (more than 2 streams and 10 % short), so a read racing a burst of opens is not one.
   */
  private drifts(): { minDrift: number | null; maxDrift: number | null; undercounted: number } {
    if (this.baseline === undefined) return { minDrift: null, maxDrift: null, undercounted: 0 };
    let minDrift: number | null = null;
    let maxDrift: number | null = null;
    let withStreams = 0;
    let short = 0;
    let mostShort = 0;
    for (const s of this.samples.slice(0, this.runSampleCount)) {
      if (s.server === null) continue;
      const drift = s.server - s.client - this.baseline;
      minDrift = minDrift === null ? drift : Math.min(minDrift, drift);
      maxDrift = maxDrift === null ? drift : Math.max(maxDrift, drift);
      if (s.client === 0) continue;
      withStreams += 1;
      if (-drift > Math.max(2, 0.1 * s.client)) {
        short += 1;
        mostShort = Math.max(mostShort, -drift);
      }
    }
    return { minDrift, maxDrift, undercounted: withStreams >= 2 && short * 2 > withStreams ? mostShort : 0 };
  }

  private sampleOnce(client: number): void {
    if (this.isReading) return;
    this.isReading = true;
    this.pendingRead = this.readSafe().then((server) => {
      this.isReading = false;
      this.record(server, client);
    });
  }

  private record(server: number | undefined, client: number): void {
    this.samples.push({ tMs: Math.round(performance.now() - this.options.startedAt), server: server ?? null, client });
  }

  private async readSafe(): Promise<number | undefined> {
    const read = this.options.read;
    if (read === undefined) return undefined;
    try {
      const value = await read();
      if (value !== undefined) this.latestValue = value;
      return value;
    } catch (error) {
      this.lastError = error instanceof Error ? error.message : String(error);
      return undefined;
    }
  }
}
