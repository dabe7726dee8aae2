/** Shared pieces of `bench:perf`: heap measurement, a paced HTTP publisher, percentiles. */
import { Agent, request } from 'undici';

/** Arguments of a measurement child. */
export interface PerfArgs {
  readonly clients: number;
  readonly rate?: number;
  readonly events?: number;
  readonly durationMs?: number;
  readonly churn?: number;
}

/**
 * Publishing before a CPU or latency measurement, not measured, on every client's side: the
 * first second of a cold process (client and server code still being compiled) is slower on
 * both sides and would otherwise decide p99 (seen: 37–107 ms in that second, 15–27 ms after).
 */
export const WARMUP_MS = 2_000;

/** Publishes at `rate` for `WARMUP_MS` and waits (at most 5 s) until `delivered()` has them all at `openStreams` streams. */
export async function warmUp(origin: string, token: string, rate: number, openStreams: number, delivered: () => number): Promise<void> {
  const count = Math.ceil((rate * WARMUP_MS) / 1000);
  const target = delivered() + count * openStreams;
  await publishAt(origin, token, rate, count, () => '{"pickup_address":"warm-up","delivery_address":"x","boxes_count":1}', () => undefined);
  const deadline = performance.now() + 5000;
  while (delivered() < target && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

/** Heap used after a full GC (run with --expose-gc). */
export async function settleHeap(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  return process.memoryUsage().heapUsed;
}

/**
 * POSTs `count` orders at `rate` per second (open model), calling `onSend(seq, scheduledAt)`
 * just before each: latency counts from the schedule, as in ssekit (coordinated omission).
 */
export async function publishAt(origin: string, token: string, rate: number, count: number, body: (seq: number) => string, onSend: (seq: number, scheduledAt: number) => void): Promise<void> {
  const agent = new Agent({ connections: 32 });
  const start = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let seq = 0; seq < count; seq++) {
    const due = start + (seq * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    onSend(seq, due);
    pending.push(
      request(`${origin}/orders`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: body(seq) }).then((r) => r.body.dump()),
    );
  }
  await Promise.all(pending);
  await agent.close();
}

/** p50/p99/max of samples in ms. */
export function collect(samples: number[]): Record<string, number> {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
  return { samples: sorted.length, p50Ms: at(50), p99Ms: at(99), maxMs: sorted[sorted.length - 1] ?? Number.NaN };
}
