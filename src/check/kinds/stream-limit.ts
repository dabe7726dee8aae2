/**
 * Check `stream-limit`: one user may hold `max` streams at once (CONTRACTS §1: one per admin;
 * §5: five channels), and what the next one gets — a refusal with its status and code (§5:
 * `HTTP 409 {"code":"stream_limit"}`), or the oldest stream ended (§1's choice in ssekit serve,
 * §5's other sentence), as the contract says.
 *
 *     stream-limit: {max: 5, over: reject, status: 409, code: stream_limit, paths: [/a, /b]}
 *     stream-limit: {max: 1, over: close-oldest, within: 1s}
 */
import { parseJsonObject } from '../../stream/normalize.js';
import type { TokenPlacement } from '../../transport/auth.js';
import type { CheckContext, CheckKindRunner } from '../context.js';
import { describeResponse, fail, pass, quoted, seconds } from '../evidence.js';
import type { StreamLimitCheck } from '../plan.js';
import type { Probe } from '../probe.js';
import { BASE_KEYS, type CheckReader } from '../read-common.js';
import type { CheckOutcome } from '../result.js';

/** How long the N allowed streams are watched before the N+1-th is opened (a server closing one of them shows by then). */
const SETTLE_MS = 200;

/** Reads `checks.<name>` of kind stream-limit. */
export const readStreamLimitCheck: CheckReader<StreamLimitCheck> = (f, base) => {
  f.allowOnly([...BASE_KEYS, 'max', 'over', 'status', 'code', 'paths', 'within']);
  if (!f.has('max')) f.problem('is required', 'max');
  const max = f.integer('max', 1, 1);
  if (max > 100) f.problem('must be at most 100 (the check opens max + 1 streams)', 'max');
  const paths = f.stringList('paths') ?? [base.stream];
  return { ...base, kind: 'stream-limit', max, over: f.oneOf('over', ['reject', 'close-oldest'], 'reject'), status: f.integer('status', 409, 100), code: f.string('code'), paths, withinMs: f.duration('within', 1_000) };
};

/** Runs a stream-limit check. */
export const streamLimitRunner: CheckKindRunner<StreamLimitCheck> = {
  plannedMs: (spec) => SETTLE_MS * 2 + spec.withinMs,
  async run(spec, ctx) {
    // One user for every stream: the limit is per user.
    const token = await ctx.token({ as: spec.as });
    const allowed = await openAllowed(spec, ctx, token);
    if (!Array.isArray(allowed)) return allowed;
    const extra = await ctx.open(pathFor(spec, spec.max), token);
    return spec.over === 'reject' ? judgeReject(spec, allowed, extra, ctx) : judgeCloseOldest(spec, allowed, extra);
  },
};

function pathFor(spec: StreamLimitCheck, index: number): string {
  return spec.paths[index % spec.paths.length] as string;
}

/** Opens the `max` streams the contract allows; a failing outcome when one is refused or closed. */
async function openAllowed(spec: StreamLimitCheck, ctx: CheckContext, token: TokenPlacement): Promise<Probe[] | CheckOutcome> {
  const probes: Probe[] = [];
  for (let i = 0; i < spec.max; i += 1) {
    const probe = await ctx.open(pathFor(spec, i), token);
    if (!probe.isStream) return fail(`only ${i} of the ${spec.max} allowed streams opened: stream ${i + 1} got ${describeResponse(probe)}`);
    probes.push(probe);
  }
  await ctx.sleep(SETTLE_MS);
  const closed = probes.findIndex((p) => p.ended() !== undefined);
  if (closed !== -1) return fail(`stream ${closed + 1} of the ${spec.max} allowed ones was closed by the server while the user held ${spec.max}: the limit is lower`);
  return probes;
}

async function judgeReject(spec: StreamLimitCheck, allowed: readonly Probe[], extra: Probe, ctx: CheckContext): Promise<CheckOutcome> {
  const nth = ordinal(spec.max + 1);
  if (extra.isStream) {
    await extra.waitFor(() => allowed[0]?.ended() !== undefined, spec.withinMs);
    const why = allowed[0]?.ended() !== undefined ? ' and the oldest stream was closed instead (close-oldest)' : '';
    return fail(`${spec.max} streams open; the ${nth} opened too${why}, contract: ${spec.status}${spec.code === undefined ? '' : ` {"code":"${spec.code}"}`}`);
  }
  const code = parseJsonObject(extra.body)?.['code'];
  const wanted = `${spec.status}${spec.code === undefined ? '' : ` (code: ${quoted(spec.code)})`}`;
  if (extra.status !== spec.status || (spec.code !== undefined && code !== spec.code)) return fail(`${spec.max} streams open; the ${nth} got ${describeResponse(extra)}, contract: ${wanted}`);
  await ctx.sleep(SETTLE_MS);
  const closed = allowed.filter((p) => p.ended() !== undefined).length;
  if (closed > 0) return fail(`the ${nth} was refused with ${wanted}, but ${closed} of the ${spec.max} open streams were closed too`);
  return pass(`${spec.max} streams open; the ${nth} got ${describeResponse(extra)}; the ${spec.max} stayed open`);
}

async function judgeCloseOldest(spec: StreamLimitCheck, allowed: readonly Probe[], extra: Probe): Promise<CheckOutcome> {
  const nth = ordinal(spec.max + 1);
  if (!extra.isStream) return fail(`${spec.max} streams open; the ${nth} got ${describeResponse(extra)}, contract: it opens and the oldest stream is closed`);
  const oldest = allowed[0] as Probe;
  await oldest.waitFor(() => oldest.ended() !== undefined, spec.withinMs);
  const end = oldest.ended();
  if (end === undefined || end.kind === 'closed') return fail(`${spec.max} streams open; the ${nth} opened but the oldest was still open after ${seconds(spec.withinMs)}: the user holds ${spec.max + 1}`);
  const others = allowed.slice(1).filter((p) => p.ended() !== undefined).length;
  if (others > 0 || extra.ended() !== undefined) return fail(`the oldest stream was closed, but so were ${others + (extra.ended() === undefined ? 0 : 1)} others`);
  return pass(`${spec.max} stream${spec.max === 1 ? '' : 's'} open; the ${nth} opened and the oldest was ended (${end.kind === 'clean' ? 'a clean end' : 'broken off'}) ${seconds(Math.max(0, end.atMs - extra.openedAtMs))} later`);
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : n % 10 === 1 ? 'st' : n % 10 === 2 ? 'nd' : n % 10 === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}
