/**
 * Bench result files (schema v1, `metrics/bench-result.ts`): validate, merge shards exactly, compare
 * two runs. Pure functions over parsed JSON; the CLI reads and writes the files.
 *
 * Merge rules (documented in the README):
 * - Only shards of one run: same `scenario.hash`, `scenario.name` and `runId`, each a shard
 *   (`shard` not null), same shard count, no index twice; otherwise a `UsageError`.
 * - Histograms are decoded, added and re-encoded (HDR addition is exact: never averaged
 *   percentiles); summaries are recomputed from the sum.
 * - Counts and `byReason`/`statuses`/`byClass` maps are summed; `clients.planned`, `peakOpen`
 *   and `opens` summed (each shard holds its own slice of the population); `durationMs` max,
 *   `startedAt` min, `endedAt` max.
 * - Leak: every shard watches the same server, so the reports are not added. The merged report
 *   is the one of the shard with the most samples (ties: the last to end, whose final reading
 *   came after the others had closed), made conservative: verdict `leak` when any shard saw a
 *   leak, `leaked` and `maxDrift` the largest any shard saw.
 * - Thresholds: every expression any shard had is judged again on the merged figures, by the
 *   same code bench judges a run with (`thresholdFiguresOf`): latency percentiles of the added
 *   histograms, summed counts, and the merged leak report.
 * - `self`: CPU summed, memory the largest process's, sockets summed (null if any is null).
 * - `endReason`: `interrupted` if any shard was; else `failed` if a merged threshold failed (or,
 *   with no thresholds at all, if any shard failed); else `passed`.
 */
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { decodeLatencyHistogram, summarizeLatency, createLatencyHistogram, type HistogramBlock, type LatencyHistogram, type LatencySummary } from '../metrics/histogram.js';
import { RESULT_SCHEMA_VERSION, thresholdFiguresOf, type BenchResult, type LeakReport } from '../metrics/bench-result.js';
import type { ThresholdVerdict } from '../metrics/thresholds.js';
import { evaluateThresholds, parseThreshold } from '../metrics/thresholds.js';

/** A result and the file it came from (for messages). */
export interface NamedResult {
  readonly file: string;
  readonly result: BenchResult;
}

/**
 * Checks that parsed JSON is a bench result this version reads; a one-line `UsageError` naming
 * the file otherwise.
 */
export function validateResult(json: unknown, file: string): BenchResult {
  const bad = (why: string): never => {
    throw new UsageError(`${file}: ${why}`, { hint: "expected a file written by 'ssekit bench --out'" });
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return bad('not a bench result (not a JSON object)');
  const record = json as Record<string, unknown>;
  if (!('schemaVersion' in record)) return bad('not a bench result (no schemaVersion)');
  if (record['schemaVersion'] !== RESULT_SCHEMA_VERSION) return bad(`schemaVersion ${JSON.stringify(record['schemaVersion'])} is not supported (this ssekit reads ${RESULT_SCHEMA_VERSION})`);
  if (record['kind'] !== 'bench') return bad(`kind ${JSON.stringify(record['kind'])} is not 'bench'`);
  const need = (path: string, type: 'string' | 'number' | 'object'): void => {
    let current: unknown = record;
    for (const key of path.split('.')) current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined;
    if (type === 'object' ? current === null || typeof current !== 'object' : typeof current !== type) bad(`${path} is missing or not a ${type}`);
  };
  for (const path of ['scenario.name', 'scenario.hash', 'runId', 'latency.hdr', 'connect.headers.hdr', 'connect.firstEvent.hdr', 'startedAt', 'endedAt']) need(path, 'string');
  for (const path of ['durationMs', 'clients.planned', 'clients.peakOpen', 'clients.opens', 'events.published', 'events.delivered', 'events.lost', 'reconnects.total', 'errors.total']) need(path, 'number');
  for (const path of ['events', 'reconnects.byReason', 'statuses', 'errors.byClass', 'leak', 'self']) need(path, 'object');
  if (!Array.isArray(record['thresholds'])) bad('thresholds is missing or not a list');
  for (const path of ['latency', 'connect.headers', 'connect.firstEvent']) {
    const block = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], record) as { hdr: string };
    try {
      decodeLatencyHistogram(block.hdr);
    } catch {
      bad(`${path}.hdr is not an HdrHistogram (compressed base64)`);
    }
  }
  return json as BenchResult;
}

function decode(block: HistogramBlock): LatencyHistogram {
  return decodeLatencyHistogram(block.hdr);
}

/** Adds encoded histograms exactly and summarizes the sum. */
export function mergeHistogramBlocks(blocks: readonly HistogramBlock[]): HistogramBlock {
  const total = createLatencyHistogram();
  for (const block of blocks) total.add(decode(block));
  return { summary: summarizeLatency(total), hdr: total.encode() };
}

function sumMaps(maps: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const map of maps) for (const [k, v] of Object.entries(map)) out[k] = (out[k] ?? 0) + v;
  return out;
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** The merged result and anything worth telling the user (missing shards). */
export interface MergeOutcome {
  readonly result: BenchResult;
  readonly warnings: readonly string[];
}

/** Merges the shards of one sharded bench run (rules in the file comment). */
export function mergeResults(inputs: readonly NamedResult[]): MergeOutcome {
  const first = inputs[0];
  if (first === undefined) throw new UsageError('merge: no result files given');
  const warnings: string[] = [];
  const seen = new Map<number, string>();
  for (const { file, result } of inputs) {
    if (result.scenario.hash !== first.result.scenario.hash || result.scenario.name !== first.result.scenario.name) {
      throw new UsageError(`${file}: scenario ${result.scenario.name} (${result.scenario.hash}) differs from ${first.file}'s ${first.result.scenario.name} (${first.result.scenario.hash}): not shards of one run`);
    }
    if (result.runId !== first.result.runId) throw new UsageError(`${file}: run ${result.runId} differs from ${first.file}'s ${first.result.runId}: not shards of one run`, { hint: "shards of one run share a run id: start them with the same scenario and 'ssekit bench --shard i/N'" });
    if (inputs.length > 1 && result.shard === null) throw new UsageError(`${file}: not a shard (shard is null): only the shards of one sharded run can be merged`);
    if (result.shard !== null) {
      if (first.result.shard !== null && result.shard.count !== first.result.shard.count) throw new UsageError(`${file}: shard ${result.shard.index}/${result.shard.count} does not match ${first.file}'s count of ${first.result.shard.count}`);
      const other = seen.get(result.shard.index);
      if (other !== undefined) throw new UsageError(`${file}: shard ${result.shard.index}/${result.shard.count} given twice (also ${other})`);
      seen.set(result.shard.index, file);
    }
  }
  if (first.result.shard !== null) {
    const missing = Array.from({ length: first.result.shard.count }, (_, i) => i + 1).filter((i) => !seen.has(i));
    if (missing.length > 0) warnings.push(`shard${missing.length === 1 ? '' : 's'} ${missing.join(', ')} of ${first.result.shard.count} missing: the merged result covers only part of the run`);
  }
  const results = inputs.map((i) => i.result);
  const pick = <T>(f: (r: BenchResult) => T): T[] => results.map(f);
  const latency = mergeHistogramBlocks(pick((r) => r.latency));
  const connect = { headers: mergeHistogramBlocks(pick((r) => r.connect.headers)), firstEvent: mergeHistogramBlocks(pick((r) => r.connect.firstEvent)) };
  const eventKeys = Object.keys(first.result.events) as (keyof BenchResult['events'])[];
  const events = Object.fromEntries(eventKeys.map((k) => [k, sum(pick((r) => r.events[k] ?? 0))])) as unknown as BenchResult['events'];
  const socketsAt = (f: (r: BenchResult) => number | null): number | null => {
    const values = pick(f);
    return values.some((v) => v === null) ? null : sum(values as number[]);
  };
  const merged: Omit<BenchResult, 'thresholds' | 'endReason'> = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'bench',
    tool: first.result.tool,
    scenario: first.result.scenario,
    runId: first.result.runId,
    shard: null,
    startedAt: pick((r) => r.startedAt).sort()[0] as string,
    endedAt: pick((r) => r.endedAt).sort().at(-1) as string,
    durationMs: Math.max(...pick((r) => r.durationMs)),
    target: first.result.target,
    clients: { planned: sum(pick((r) => r.clients.planned)), peakOpen: sum(pick((r) => r.clients.peakOpen)), opens: sum(pick((r) => r.clients.opens)) },
    connect,
    latency,
    events,
    reconnects: { total: sum(pick((r) => r.reconnects.total)), byReason: sumMaps(pick((r) => r.reconnects.byReason)) },
    statuses: sumMaps(pick((r) => r.statuses)),
    errors: { total: sum(pick((r) => r.errors.total)), byClass: sumMaps(pick((r) => r.errors.byClass)) },
    leak: mergeLeaks(results),
    self: {
      cpuUserMs: sum(pick((r) => r.self.cpuUserMs)),
      cpuSystemMs: sum(pick((r) => r.self.cpuSystemMs)),
      maxRssBytes: Math.max(...pick((r) => r.self.maxRssBytes)),
      heapUsedBytes: Math.max(...pick((r) => r.self.heapUsedBytes)),
      socketsAtStart: socketsAt((r) => r.self.socketsAtStart),
      socketsAtEnd: socketsAt((r) => r.self.socketsAtEnd),
    },
  };
  const thresholds = mergeThresholds(results, merged);
  const isInterrupted = results.some((r) => r.endReason === 'interrupted');
  const isFailed = thresholds.some((t) => !t.passed) || (thresholds.length === 0 && results.some((r) => r.endReason === 'failed'));
  const result: BenchResult = { ...merged, endReason: isInterrupted ? 'interrupted' : isFailed ? 'failed' : 'passed', thresholds };
  return { result, warnings };
}

function mergeLeaks(results: readonly BenchResult[]): LeakReport {
  const ranked = [...results].sort((a, b) => b.leak.samples.length - a.leak.samples.length || b.endedAt.localeCompare(a.endedAt));
  const base = (ranked[0] as BenchResult).leak;
  const known = (values: readonly (number | null)[]): number | null => {
    const numbers = values.filter((v): v is number => v !== null);
    return numbers.length === 0 ? null : Math.max(...numbers);
  };
  const verdicts = results.map((r) => r.leak.verdict);
  const verdict = verdicts.includes('leak') ? 'leak' : verdicts.includes('ok') ? 'ok' : 'unknown';
  return {
    ...base,
    leaked: known(results.map((r) => r.leak.leaked)),
    maxDrift: known(results.map((r) => r.leak.maxDrift)),
    verdict,
  };
}


function mergeThresholds(results: readonly BenchResult[], merged: Omit<BenchResult, 'thresholds' | 'endReason'>): ThresholdVerdict[] {
  const expressions: string[] = [];
  for (const r of results) for (const t of r.thresholds) if (!expressions.includes(t.expression)) expressions.push(t.expression);
  // The same figures bench judges its own run on, read from the merged result: shards that
  // each passed can fail together, and the other way round.
  const figures = thresholdFiguresOf(merged);
  return evaluateThresholds(
    expressions.map((expression) => parseThreshold(expression, `result threshold '${expression}'`)),
    figures,
  );
}

/** One compared figure. */
export interface ComparedFigure {
  /** `latency p99`, `events lost`, … */
  readonly figure: string;
  readonly unit: 'ms' | 'count' | 'ratio';
  /** null: no samples. */
  readonly base: number | null;
  readonly next: number | null;
  /** next − base. */
  readonly change: number | null;
  /** Relative change in % of base; null when base is 0 or unknown (Infinity when base is 0 and next is not). */
  readonly changePct: number | null;
  /** Which way is better, to colour the change. */
  readonly better: 'lower' | 'higher' | 'neither';
}

/** `--max-regression`: a percentage of the base p99, or an absolute duration. */
export type RegressionLimit = { readonly kind: 'percent'; readonly percent: number } | { readonly kind: 'absolute'; readonly ms: number };

/** The p99 regression gate's verdict. */
export interface RegressionVerdict {
  readonly limit: RegressionLimit;
  readonly baseP99Ms: number | null;
  readonly nextP99Ms: number | null;
  readonly passed: boolean;
  readonly reason?: string;
}

/** The comparison of two runs. */
export interface Comparison {
  readonly base: { readonly scenario: string; readonly runId: string; readonly endReason: BenchResult['endReason']; readonly leak: LeakReport['verdict'] };
  readonly next: { readonly scenario: string; readonly runId: string; readonly endReason: BenchResult['endReason']; readonly leak: LeakReport['verdict'] };
  readonly isSameScenario: boolean;
  readonly figures: readonly ComparedFigure[];
  readonly regression?: RegressionVerdict;
}

/** Parses `10%`, `10` (percent) or a duration such as `50ms` (absolute). */
export function parseRegressionLimit(text: string): RegressionLimit {
  const trimmed = text.trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%?$/.exec(trimmed);
  if (pct !== null) return { kind: 'percent', percent: Number(pct[1]) };
  try {
    return { kind: 'absolute', ms: parseDuration(trimmed, '--max-regression') };
  } catch {
    throw new UsageError(`--max-regression: '${text}' is neither a percentage nor a duration`, { hint: 'e.g. 10% (of the base p99) or 50ms' });
  }
}

const nan = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** Compares two runs figure by figure; with `maxRegression`, gates the p99 latency. */
export function compareResults(base: BenchResult, next: BenchResult, options: { readonly maxRegression?: RegressionLimit } = {}): Comparison {
  const figures: ComparedFigure[] = [];
  const add = (figure: string, unit: ComparedFigure['unit'], better: ComparedFigure['better'], b: number | null, n: number | null): void => {
    const change = b === null || n === null ? null : n - b;
    const changePct = change === null || b === null ? null : b === 0 ? (change === 0 ? 0 : Number.POSITIVE_INFINITY) : (change / Math.abs(b)) * 100;
    figures.push({ figure, unit, base: b, next: n, change, changePct, better });
  };
  const stats: [string, keyof LatencySummary][] = [
    ['p50', 'p50Ms'],
    ['p90', 'p90Ms'],
    ['p95', 'p95Ms'],
    ['p99', 'p99Ms'],
    ['p99.9', 'p999Ms'],
    ['max', 'maxMs'],
    ['mean', 'meanMs'],
  ];
  for (const [label, key] of stats) add(`latency ${label}`, 'ms', 'lower', nan(base.latency.summary[key]), nan(next.latency.summary[key]));
  add('latency samples', 'count', 'neither', base.latency.summary.count, next.latency.summary.count);
  for (const [label, key] of [['p50', 'p50Ms'], ['p99', 'p99Ms']] as const) add(`connect ${label}`, 'ms', 'lower', nan(base.connect.headers.summary[key]), nan(next.connect.headers.summary[key]));
  for (const [label, key] of [['p50', 'p50Ms'], ['p99', 'p99Ms']] as const) add(`first event ${label}`, 'ms', 'lower', nan(base.connect.firstEvent.summary[key]), nan(next.connect.firstEvent.summary[key]));
  add('peak open streams', 'count', 'neither', base.clients.peakOpen, next.clients.peakOpen);
  add('events published', 'count', 'neither', base.events.published, next.events.published);
  add('deliveries expected', 'count', 'neither', base.events.expectedDeliveries, next.events.expectedDeliveries);
  add('delivered', 'count', 'higher', base.events.delivered, next.events.delivered);
  add('lost', 'count', 'lower', base.events.lost, next.events.lost);
  const lossRate = (r: BenchResult): number | null => (r.events.expectedDeliveries > 0 ? r.events.lost / r.events.expectedDeliveries : null);
  add('loss rate', 'ratio', 'lower', lossRate(base), lossRate(next));
  add('duplicated', 'count', 'lower', base.events.duplicated, next.events.duplicated);
  add('out of order', 'count', 'lower', base.events.outOfOrder, next.events.outOfOrder);
  add('missed during reconnect', 'count', 'lower', base.events.missedDuringReconnect, next.events.missedDuringReconnect);
  add('publish errors', 'count', 'lower', base.events.publishErrors, next.events.publishErrors);
  add('reconnects', 'count', 'neither', base.reconnects.total, next.reconnects.total);
  add('errors', 'count', 'lower', base.errors.total, next.errors.total);
  add('leaked streams', 'count', 'lower', base.leak.leaked, next.leak.leaked);
  let regression: RegressionVerdict | undefined;
  if (options.maxRegression !== undefined) regression = checkRegression(nan(base.latency.summary.p99Ms), nan(next.latency.summary.p99Ms), options.maxRegression);
  const side = (r: BenchResult): Comparison['base'] => ({ scenario: r.scenario.name, runId: r.runId, endReason: r.endReason, leak: r.leak.verdict });
  return {
    base: side(base),
    next: side(next),
    isSameScenario: base.scenario.hash === next.scenario.hash,
    figures,
    ...(regression === undefined ? {} : { regression }),
  };
}

function checkRegression(baseP99Ms: number | null, nextP99Ms: number | null, limit: RegressionLimit): RegressionVerdict {
  if (baseP99Ms === null || nextP99Ms === null) return { limit, baseP99Ms, nextP99Ms, passed: false, reason: `no latency samples in the ${baseP99Ms === null ? 'base' : 'new'} run` };
  const worse = nextP99Ms - baseP99Ms;
  if (limit.kind === 'absolute') {
    const passed = worse <= limit.ms;
    return passed ? { limit, baseP99Ms, nextP99Ms, passed } : { limit, baseP99Ms, nextP99Ms, passed, reason: `p99 got worse by ${round(worse)} ms, over the ${round(limit.ms)} ms allowed` };
  }
  const pct = baseP99Ms === 0 ? (worse > 0 ? Number.POSITIVE_INFINITY : 0) : (worse / baseP99Ms) * 100;
  const passed = pct <= limit.percent;
  return passed ? { limit, baseP99Ms, nextP99Ms, passed } : { limit, baseP99Ms, nextP99Ms, passed, reason: `p99 got worse by ${Number.isFinite(pct) ? `${round(pct)} %` : 'more than any percentage (base 0)'}, over the ${limit.percent} % allowed` };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
