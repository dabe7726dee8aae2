/**
 * Server-side connection-leak detection. The server's own count of open streams is sampled
 * every second beside ssekit's real count; after the run every stream is closed, and after a
 * grace period the server's count is compared with its count before the run. An excess is a
 * leak (seed 003's registry that never unregisters; CONTRACTS §2's duplicate connections).
 */
import { sleep } from '../core/sleep.js';
import type { LeakReport, ServerSample } from '../metrics/bench-result.js';

/** Reads the server's count of open streams; undefined when the read failed. */
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
  /** Reads the count before any stream opens. */
  takeBaseline(): Promise<void>;
  /** Samples every `intervalMs` until `stopSampling`. */
  startSampling(clientCount: () => number): void;
  stopSampling(): Promise<void>;
  /** After every stream closed: polls until the count is back to the baseline or the grace ends. */
  settle(graceMs: number, signal: AbortSignal): Promise<void>;
  report(): LeakReport;
  /** The latest server figure (progress display). */
  readonly latest: number | undefined;
}

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
    this.baseline = await this.readSafe();
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

  async settle(graceMs: number, signal: AbortSignal): Promise<void> {
    this.graceMs = graceMs;
    if (this.options.read === undefined) return;
    const deadline = performance.now() + graceMs;
    for (;;) {
      this.final = await this.readSafe();
      this.record(this.final, 0);
      if (this.final !== undefined && this.baseline !== undefined && this.final <= this.baseline) return;
      if (performance.now() >= deadline) return;
      if (!(await sleep(Math.min(250, deadline - performance.now()), signal))) {
        this.isCutShort = true;
        return;
      }
    }
  }

  report(): LeakReport {
    const { baseline, final } = this;
    const leaked = baseline !== undefined && final !== undefined ? Math.max(0, final - baseline) : null;
    return {
      source: this.options.source,
      metric: this.options.metric,
      baseline: baseline ?? null,
      final: final ?? null,
      leaked,
      maxDrift: this.maxDrift(),
      graceMs: this.graceMs,
      verdict: leaked === null || (leaked > 0 && this.isCutShort) ? 'unknown' : leaked > 0 ? 'leak' : 'ok',
      samples: this.samples,
    };
  }

  /** Largest (server − client − baseline) seen while the fleet ran. */
  private maxDrift(): number | null {
    if (this.baseline === undefined) return null;
    let maxDrift: number | null = null;
    for (const s of this.samples.slice(0, this.runSampleCount)) {
      if (s.server === null) continue;
      const drift = s.server - s.client - this.baseline;
      if (maxDrift === null || drift > maxDrift) maxDrift = drift;
    }
    return maxDrift;
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
    } catch {
      return undefined;
    }
  }
}
