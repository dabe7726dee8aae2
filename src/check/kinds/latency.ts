/**
 * Check `latency`: publish → delivery through the contract's producer, against its target
 * (CONTRACTS §1 acceptance: "an order created via `POST /orders` reaches the SSE stream in
 * < 500 ms"). Latency counts from the moment the producer is called to the moment the event
 * carrying that call's marker is parsed on the stream ("What follows for ssekit").
 *
 *     latency: {produce: {request: POST /orders, body: ...}, count: 5, rate: 10, target: 500ms, gate: max}
 */
import type { CheckKindRunner } from '../context.js';
import { fail, notOpened, pass, seconds, withFigures } from '../evidence.js';
import type { LatencyCheck, LatencyGate } from '../plan.js';
import { BASE_KEYS, readNonceStep, type CheckReader } from '../read-common.js';

const GATES: readonly LatencyGate[] = ['max', 'p50', 'p90', 'p99'];

/** Reads `checks.<name>` of kind latency; `--latency-target` wins. */
export const readLatencyCheck: CheckReader<LatencyCheck> = (f, base, env) => {
  f.allowOnly([...BASE_KEYS, 'produce', 'count', 'rate', 'target', 'gate', 'timeout']);
  const produce = readNonceStep(f, base, env, 'deliveries are matched by it');
  const rate = f.raw('rate');
  if (rate !== undefined && (typeof rate !== 'number' || rate <= 0)) f.problem('must be a positive number of events per second', 'rate');
  return {
    ...base,
    kind: 'latency',
    produce,
    count: f.integer('count', 5, 1),
    ratePerSecond: typeof rate === 'number' && rate > 0 ? rate : 5,
    targetMs: env.overrides.latencyTargetMs ?? f.duration('target', 500),
    gate: f.oneOf('gate', GATES, 'max'),
    timeoutMs: f.duration('timeout', 5_000),
  };
};

/** Runs a latency check. */
export const latencyRunner: CheckKindRunner<LatencyCheck> = {
  plannedMs: (spec) => (spec.count / spec.ratePerSecond) * 1000 + spec.timeoutMs,
  async run(spec, ctx) {
    const probe = await ctx.open(spec.stream, await ctx.token({ as: spec.as }));
    if (!probe.isStream) return notOpened(probe);
    const calls: { marker: string; calledAtMs: number }[] = [];
    const startedAt = performance.now();
    for (let seq = 0; seq < spec.count; seq += 1) {
      // On schedule (an open model): event i goes out at start + i/rate, whatever the deliveries do.
      const dueMs = startedAt + (seq * 1000) / spec.ratePerSecond - performance.now();
      if (dueMs > 0 && !(await ctx.sleep(dueMs))) return fail('interrupted');
      const outcome = await ctx.produce(spec.produce, seq);
      calls.push({ marker: outcome.marker ?? '', calledAtMs: outcome.calledAtMs });
    }
    const deliveredAt = (marker: string): number | undefined => probe.events.find((e) => e.data.includes(marker))?.atMs;
    const lastCall = calls[calls.length - 1]?.calledAtMs ?? startedAt;
    await probe.waitFor(() => calls.every((c) => deliveredAt(c.marker) !== undefined), lastCall + spec.timeoutMs - performance.now());
    const latencies = calls.flatMap((c) => {
      const at = deliveredAt(c.marker);
      return at === undefined || at - c.calledAtMs > spec.timeoutMs ? [] : [at - c.calledAtMs];
    });
    const sorted = [...latencies].sort((a, b) => a - b);
    return withFigures(judge(spec, sorted), { sent: spec.count, delivered: sorted.length, p50Ms: quantile(sorted, 0.5), maxMs: sorted[sorted.length - 1] ?? Number.NaN, targetMs: spec.targetMs });
  },
};

/** The q-quantile of sorted values (nearest rank); NaN when empty. */
function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

function judge(spec: LatencyCheck, sorted: readonly number[]): ReturnType<typeof pass> {
  const lost = spec.count - sorted.length;
  const stat = (q: number): number => quantile(sorted, q);
  const value = spec.gate === 'max' ? (sorted[sorted.length - 1] ?? Number.NaN) : stat(Number(spec.gate.slice(1)) / 100);
  const delivered = `${sorted.length}/${spec.count} delivered`;
  if (sorted.length === 0) return fail(`0/${spec.count} delivered within ${seconds(spec.timeoutMs)}`);
  const figures = `${spec.gate} ${seconds(value)}`;
  const context = spec.gate === 'max' ? `(p50 ${seconds(stat(0.5))})` : `(p50 ${seconds(stat(0.5))}, max ${seconds(sorted[sorted.length - 1] as number)})`;
  if (lost > 0) return fail(`${delivered}: ${lost} lost (not seen within ${seconds(spec.timeoutMs)}); ${figures} ${context}`);
  if (value >= spec.targetMs) return fail(`${delivered}, ${figures} ≥ ${seconds(spec.targetMs)} ${context}`);
  return pass(`${delivered}, ${figures} < ${seconds(spec.targetMs)} ${context}`);
}
