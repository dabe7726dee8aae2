/**
 * Check `server-figures`: the server's own figures are there and true. Metric names at
 * `/metrics` (CONTRACTS §1: `sse_connections_active{role="admin"}`,
 * `admin_events_emitted_total{event_type}`, `sse_connection_duration_seconds`), the stats JSON
 * shape (§3's `{active_admin_connections, ...}`, superadmin only), and the counts: up by exactly
 * the streams the check holds (one user each), and back down once it closes them — a registry
 * that never unregisters (§4's "classic place for a connection leak") stays up.
 *
 *     server-figures:
 *       hold: 2
 *       metrics: {path: /metrics, names: [...], count: 'sse_connections_active{role="admin"}'}
 *       stats: {path: /api/v1/notifications/stream/stats, as: superadmin, schema: {...}, count: active_admin_connections}
 */
import { selectFigure, fetchServerStats } from '../../server-stats/read-stats.js';
import { familyNameOf } from '../../server-stats/prometheus.js';
import type { ServerStats } from '../../server-stats/types.js';
import type { CheckContext, CheckKindRunner } from '../context.js';
import { fail, notOpened, pass, seconds } from '../evidence.js';
import type { Fields } from '../fields.js';
import type { FigureSource, ServerFiguresCheck } from '../plan.js';
import type { Probe } from '../probe.js';
import { BASE_KEYS, readIdentity, readSchema, type CheckReader, type ReadEnv } from '../read-common.js';
import type { CheckOutcome } from '../result.js';

/** Reads `checks.<name>` of kind server-figures. */
export const readServerFiguresCheck: CheckReader<ServerFiguresCheck> = (f, base, env) => {
  f.allowOnly([...BASE_KEYS, 'hold', 'settle', 'metrics', 'stats']);
  const metricsFields = f.section('metrics');
  const statsFields = f.section('stats');
  if (metricsFields === undefined && statsFields === undefined) f.problem("needs 'metrics:' or 'stats:'");
  return {
    ...base,
    kind: 'server-figures',
    metrics: metricsFields === undefined ? undefined : readSource(metricsFields, env),
    stats: statsFields === undefined ? undefined : readSource(statsFields, env),
    hold: f.integer('hold', 2, 1),
    settleMs: f.duration('settle', 2_000),
  };
};

function readSource(f: Fields, env: ReadEnv): FigureSource {
  f.allowOnly(['path', 'as', 'names', 'schema', 'count']);
  return { url: f.requiredString('path'), as: f.has('as') ? readIdentity(f, 'as', '', env) : undefined, names: f.stringList('names') ?? [], schema: readSchema(f, 'schema'), count: f.string('count') };
}

/** How long the counts must hold still to be the baseline, ms. */
const STEADY_MS = 150;

/** Runs a server-figures check. */
export const serverFiguresRunner: CheckKindRunner<ServerFiguresCheck> = {
  plannedMs: (spec) => spec.settleMs * 2 + STEADY_MS,
  async run(spec, ctx) {
    const sources = [spec.metrics, spec.stats].filter((s): s is FigureSource => s !== undefined);
    const problems: string[] = [];
    const notes: string[] = [];
    const read = await Promise.all(sources.map(async (source) => ({ source, read: await createReader(source, ctx) })));
    const counted: CountedSource[] = [];
    for (const { source, read: readSource } of read) {
      // The first reading is the shape's evidence and, before any stream of the check opens, the baseline.
      const first = await readSource();
      shapeOf(source, first, problems, notes);
      if (source.count !== undefined) counted.push({ source, read: readSource, first });
    }
    if (counted.length > 0) {
      const lines = await followCounts(spec, counted, ctx);
      if (!Array.isArray(lines)) return lines;
      for (const line of lines) (line.isOk ? notes : problems).push(line.text);
    }
    return problems.length === 0 ? pass(notes.join('; ')) : fail(problems.join('; '), notes);
  },
};

/** A function that reads one source with its credentials. */
async function createReader(source: FigureSource, ctx: CheckContext): Promise<() => Promise<ServerStats>> {
  const token = source.as === undefined ? undefined : await ctx.token({ as: source.as });
  const url = ctx.url(source.url);
  return () => fetchServerStats(url, { headers: ctx.plan.headers, token, dispatcher: ctx.dispatcher, signal: ctx.signal, timeoutMs: ctx.plan.connectTimeoutMs });
}

/** Names present and shape valid: problems and notes, in words. */
function shapeOf(source: FigureSource, stats: ServerStats, problems: string[], notes: string[]): void {
  if (source.names.length > 0) {
    const families = stats.families ?? [];
    const present = new Set([...families.map((family) => family.name), ...stats.figures.map((figure) => familyNameOf(figure.name, families) ?? figure.name)]);
    const missing = source.names.filter((name) => !present.has(name));
    if (missing.length > 0) problems.push(`${source.url}: missing ${missing.join(', ')} (has ${source.names.length - missing.length} of the ${source.names.length} names)`);
    else notes.push(`${source.url}: all ${source.names.length} metric names present`);
  }
  if (source.schema !== undefined) {
    const found = stats.format === 'json' ? source.schema.problemsOf(stats.json) : [`is ${stats.format}, not JSON`];
    if (found.length > 0) problems.push(`${source.url} does not match its schema: ${found.join('; ')}`);
    else notes.push(`${source.url} matches its schema`);
  }
}

interface CountedSource {
  readonly source: FigureSource;
  readonly read: () => Promise<ServerStats>;
  /** The reading taken before the check opened anything. */
  readonly first: ServerStats;
}

/**
 * Holds `hold` streams, each of its own user, and follows the counts: baseline → baseline +
 * hold while they are open → baseline after they are closed. A line per count, or an outcome
 * when a stream could not be opened or a figure is absent.
 */
async function followCounts(spec: ServerFiguresCheck, sources: readonly CountedSource[], ctx: CheckContext): Promise<CountLine[] | CheckOutcome> {
  const countAll = async (): Promise<(number | undefined)[]> => Promise.all(sources.map(async ({ source, read }) => selectFigure(await read(), source.count as string)));
  const baseline = await steadyCounts(
    sources.map(({ source, first }) => selectFigure(first, source.count as string)),
    countAll,
    spec.settleMs,
    ctx,
  );
  const absent = sources.filter((_s, i) => baseline[i] === undefined).map((s) => `${s.source.count ?? ''} (${s.source.url})`);
  if (absent.length > 0) return fail(`no figure ${absent.join(', ')}`);
  const probes: Probe[] = [];
  for (let i = 0; i < spec.hold; i += 1) {
    const probe = await ctx.open(spec.stream, await ctx.token({ as: spec.as }));
    if (!probe.isStream) return notOpened(probe, `stream ${i + 1} of ${spec.hold}`);
    probes.push(probe);
  }
  const target = baseline.map((b) => (b as number) + spec.hold);
  const held = await settleTo(target, countAll, spec.settleMs, ctx);
  for (const probe of probes) probe.close();
  const after = await settleTo(baseline as number[], countAll, spec.settleMs, ctx);
  return sources.map(({ source }, i) => describeCount(source.count as string, baseline[i] as number, held[i], after[i], spec));
}

/** One count's evidence. */
interface CountLine {
  readonly isOk: boolean;
  readonly text: string;
}

/**
 * The baseline: counts that held still for `STEADY_MS` (at most `settleMs` of waiting). A stream
 * an earlier check just closed can still be registered at the first reading; taking that as the
 * baseline would count its unregistering against this check's streams.
 */
async function steadyCounts(first: (number | undefined)[], countAll: () => Promise<(number | undefined)[]>, settleMs: number, ctx: CheckContext): Promise<(number | undefined)[]> {
  const deadline = performance.now() + settleMs;
  let previous = first;
  for (;;) {
    if (performance.now() >= deadline || !(await ctx.sleep(STEADY_MS))) return previous;
    const counts = await countAll();
    if (counts.every((c, i) => c === previous[i])) return counts;
    previous = counts;
  }
}

/** Reads until every count equals its target or `settleMs` passes; the last reading. */
async function settleTo(targets: readonly number[], countAll: () => Promise<(number | undefined)[]>, settleMs: number, ctx: CheckContext): Promise<(number | undefined)[]> {
  const deadline = performance.now() + settleMs;
  for (;;) {
    const counts = await countAll();
    if (counts.every((c, i) => c === targets[i]) || performance.now() >= deadline) return counts;
    if (!(await ctx.sleep(50))) return counts;
  }
}

function describeCount(selector: string, baseline: number, held: number | undefined, after: number | undefined, spec: ServerFiguresCheck): CountLine {
  const path = `${selector} ${baseline} → ${String(held)} → ${String(after)}`;
  if (held !== baseline + spec.hold) return { isOk: false, text: `${path}: not ${baseline + spec.hold} while ${spec.hold} streams were held (the server counted ${String((held ?? baseline) - baseline)} of them)` };
  if (after !== baseline) return { isOk: false, text: `${path}: still ${String(after)} ${seconds(spec.settleMs)} after the ${spec.hold} streams closed (${String((after ?? baseline) - baseline)} not unregistered: a leak)` };
  return { isOk: true, text: `${path} with ${spec.hold} streams held, then closed` };
}
