/**
 * Live bench progress: an ora spinner line on a TTY, plain periodic lines otherwise (CI logs).
 * It receives periodic snapshots (k6 flushers), never one call per event.
 */
import ora, { type Ora } from 'ora';
import type { BenchProgress } from '../bench/progress.js';
import { formatDuration } from '../core/duration.js';

/** A progress display. */
export interface ProgressReporter {
  onProgress(progress: BenchProgress): void;
  notice(text: string): void;
  stop(): void;
}

/** Formats one snapshot as a line. */
export function formatProgress(p: BenchProgress): string {
  const p99 = Number.isNaN(p.p99Ms) ? 'n/a' : formatDuration(p.p99Ms);
  const server = p.server === undefined ? '' : ` · server ${p.server}`;
  return `${p.phase} ${formatDuration(p.elapsedMs)} · open ${p.open}/${p.planned}${server} · ${Math.round(p.eventsPerSecond)} ev/s · published ${p.published} · delivered ${p.delivered} · lost ${p.lost} · p99 ${p99} · errors ${p.errors} · reconnects ${p.reconnects}`;
}

/** Creates the reporter for a stream (stderr). `isTTY` picks the spinner. */
export function createProgressReporter(stream: NodeJS.WritableStream & { columns?: number }, options: { isTTY: boolean; intervalMs?: number }): ProgressReporter {
  // A terminal that reports no width (docker -t, some CI runners) would make the spinner
  // redraw for ever: plain lines there.
  if (options.isTTY && (stream.columns ?? 0) > 0) {
    const spinner: Ora = ora({ stream, text: 'starting', discardStdin: false }).start();
    return {
      onProgress(progress) {
        spinner.text = formatProgress(progress);
      },
      notice(text) {
        spinner.clear();
        stream.write(`${text}\n`);
        spinner.render();
      },
      stop() {
        spinner.stop();
      },
    };
  }
  const intervalMs = options.intervalMs ?? 5_000;
  let lastAt = Number.NEGATIVE_INFINITY;
  return {
    onProgress(progress) {
      if (progress.elapsedMs - lastAt < intervalMs && progress.phase !== 'settling') return;
      lastAt = progress.elapsedMs;
      stream.write(`${formatProgress(progress)}\n`);
    },
    notice(text) {
      stream.write(`${text}\n`);
    },
    stop() {},
  };
}
