/**
 * Check `heartbeat`: shape and cadence. The seeds' heartbeats come in three shapes (CONTRACTS
 * "What follows"): a comment (§1 `:keepalive`, §4 `: ping`), an event with JSON (§3 `ping
 * {timestamp}`) and an event with empty data (§5 `heartbeat`). The stream is watched for
 * `intervals` intervals plus the tolerance; every gap — from the open to the first heartbeat,
 * between heartbeats, and the one still running when watching stops — must be at most
 * interval + tolerance, and gaps between heartbeats at least interval − tolerance.
 *
 *     heartbeat: {comment: keepalive, interval: 30s, tolerance: 1s, intervals: 3}
 *     heartbeat: {event: ping, data: json, schema: {...}, interval: 30s}
 */
import { tryParseJson } from '../../stream/normalize.js';
import type { CheckKindRunner } from '../context.js';
import { fail, notOpened, pass, quoted, seconds, withFigures } from '../evidence.js';
import type { HeartbeatCheck, HeartbeatShape } from '../plan.js';
import type { Probe } from '../probe.js';
import { BASE_KEYS, readSchema, type CheckReader } from '../read-common.js';
import type { CheckOutcome } from '../result.js';

/** Reads `checks.<name>` of kind heartbeat; `--heartbeat-interval`, `--heartbeat-tolerance` and `--heartbeat-observe` win. */
export const readHeartbeatCheck: CheckReader<HeartbeatCheck> = (f, base, env) => {
  f.allowOnly([...BASE_KEYS, 'comment', 'event', 'data', 'schema', 'interval', 'tolerance', 'intervals']);
  let shape: HeartbeatShape;
  if (f.has('comment') === f.has('event')) {
    f.problem("needs exactly one of 'comment: <text>' or 'event: <type>'");
    shape = { kind: 'comment', text: '' };
  } else if (f.has('comment')) shape = { kind: 'comment', text: f.string('comment') ?? '' };
  else shape = { kind: 'event', type: f.string('event') ?? '', data: f.oneOf('data', ['empty', 'json', 'any'], 'any'), schema: readSchema(f, 'schema') };
  const intervalMs = env.overrides.heartbeatIntervalMs ?? f.duration('interval', 30_000);
  const toleranceMs = env.overrides.heartbeatToleranceMs ?? f.duration('tolerance', 1_000);
  if (intervalMs <= 0) f.problem('must be longer than 0', 'interval');
  const intervals = f.integer('intervals', 3, 1);
  const observeMs = env.overrides.heartbeatObserveMs ?? intervals * intervalMs + toleranceMs;
  // A shorter watch could not tell a missing heartbeat from one still on its way.
  if (observeMs < intervalMs + toleranceMs) f.problem(`is watched for ${observeMs} ms (--heartbeat-observe), less than one interval + the tolerance (${intervalMs + toleranceMs} ms)`);
  return { ...base, kind: 'heartbeat', shape, intervalMs, toleranceMs, observeMs };
};

/** Runs a heartbeat check. */
export const heartbeatRunner: CheckKindRunner<HeartbeatCheck> = {
  plannedMs: (spec) => spec.observeMs,
  shortenedBy: '--heartbeat-interval (with the backend configured to match) or --heartbeat-observe',
  async run(spec, ctx) {
    const probe = await ctx.open(spec.stream, await ctx.token({ as: spec.as }));
    if (!probe.isStream) return notOpened(probe);
    // Watch until the window ends, or the stream does.
    await probe.waitFor(() => probe.ended() !== undefined, spec.observeMs);
    if (ctx.signal.aborted) return fail('interrupted');
    const watchedUntil = Math.min(performance.now(), probe.ended()?.atMs ?? Number.POSITIVE_INFINITY);
    const label = labelOf(spec.shape);
    const end = probe.ended();
    if (end !== undefined && end.kind !== 'closed') return fail(`the stream ${end.kind === 'clean' ? 'ended' : 'broke off'} after ${seconds(end.atMs - probe.openedAtMs)}, before ${seconds(spec.observeMs)} of watching ${label}`);
    const { times, wrongShape } = heartbeatsOf(spec.shape, probe);
    if (wrongShape.length > 0 && times.length === 0) return fail(`no ${label} in ${seconds(watchedUntil - probe.openedAtMs)}; saw ${wrongShape.slice(0, 3).join(', ')} instead`);
    if (wrongShape.length > 0) return fail(`${label}: ${wrongShape.slice(0, 3).join('; ')}`);
    return judgeCadence(spec, label, probe.openedAtMs, times, watchedUntil);
  },
};

function labelOf(shape: HeartbeatShape): string {
  return shape.kind === 'comment' ? `:${shape.text}` : `event ${shape.type}`;
}

/** The heartbeats' arrival times, and what looked like a heartbeat but had the wrong shape. */
function heartbeatsOf(shape: HeartbeatShape, probe: Probe): { times: number[]; wrongShape: string[] } {
  if (shape.kind === 'comment') {
    // Comments are compared without the one leading space WHATWG strips: `: ping` is `ping`.
    const times = probe.comments.filter((c) => c.text.trim() === shape.text.trim()).map((c) => c.atMs);
    const others = [...new Set(probe.comments.filter((c) => c.text.trim() !== shape.text.trim()).map((c) => `comment ${quoted(c.text)}`))];
    return { times, wrongShape: times.length === 0 ? others : [] };
  }
  const events = probe.events.filter((e) => e.type === shape.type);
  const wrongShape = events.flatMap((e) => dataProblems(shape, e.data)).slice(0, 3);
  if (events.length === 0) {
    const others = [...new Set(probe.events.map((e) => `event ${quoted(e.type)}`))];
    return { times: [], wrongShape: others };
  }
  return { times: events.map((e) => e.atMs), wrongShape };
}

function dataProblems(shape: Extract<HeartbeatShape, { kind: 'event' }>, data: string): string[] {
  if (shape.data === 'empty') return data === '' ? [] : [`data should be empty, got ${quoted(data)}`];
  if (shape.data === 'any' && shape.schema === undefined) return [];
  const parsed = tryParseJson(data);
  if (!parsed.ok) return shape.data === 'json' || shape.schema !== undefined ? [`data is not JSON: ${quoted(data)}`] : [];
  return (shape.schema?.problemsOf(parsed.value, 2) ?? []).map((p) => `data ${p}`);
}

/** Longest and shortest gaps against interval ± tolerance. */
function judgeCadence(spec: HeartbeatCheck, label: string, openedAtMs: number, times: readonly number[], watchedUntil: number): CheckOutcome {
  const upper = spec.intervalMs + spec.toleranceMs;
  const points = [openedAtMs, ...times];
  const gaps = points.slice(1).map((t, i) => t - (points[i] as number));
  // The gap still running when watching stopped is a lower bound of a real gap: it counts once it is too long.
  const running = watchedUntil - (points[points.length - 1] as number);
  const longest = Math.max(...gaps, running > upper ? running : 0);
  const between = gaps.slice(1);
  const shortest = between.length === 0 ? undefined : Math.min(...between);
  const cadence: Cadence = { label, seen: times.length, longest, shortest, running, over: `over ${seconds(watchedUntil - openedAtMs)} (${times.length} seen)` };
  const figures = { seen: times.length, longestGapMs: longest, shortestGapMs: shortest ?? Number.NaN, watchedMs: watchedUntil - openedAtMs, intervalMs: spec.intervalMs, toleranceMs: spec.toleranceMs };
  return withFigures(cadenceOutcome(spec, cadence), figures);
}

/** What the watch found, in ms. */
interface Cadence {
  readonly label: string;
  readonly seen: number;
  readonly longest: number;
  /** Between two heartbeats (undefined with fewer than two). */
  readonly shortest: number | undefined;
  /** Since the last heartbeat (or the open) when watching stopped. */
  readonly running: number;
  /** `over 91.0 s (3 seen)`. */
  readonly over: string;
}

function cadenceOutcome(spec: HeartbeatCheck, { label, seen, longest, shortest, running, over }: Cadence): CheckOutcome {
  const upper = spec.intervalMs + spec.toleranceMs;
  const lower = spec.intervalMs - spec.toleranceMs;
  if (seen === 0) return fail(`${label}: none in ${seconds(running)}, contract: every ${seconds(spec.intervalMs)} (± ${seconds(spec.toleranceMs)})`);
  if (longest > upper) return fail(`${label}: longest gap ${seconds(longest)} > ${seconds(upper)} ${over}`);
  if (shortest !== undefined && lower > 0 && shortest < lower) return fail(`${label}: shortest gap ${seconds(shortest)} < ${seconds(lower)} ${over}, contract: every ${seconds(spec.intervalMs)}`);
  return pass(`${label}: longest gap ${seconds(longest)} ≤ ${seconds(upper)} ${over}`);
}
