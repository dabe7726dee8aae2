/**
 * Merging the shards of one bench run exactly: a pure function over parsed results (the CLI
 * reads and writes the files).
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
import { UsageError } from '../core/errors.js';
import { RESULT_SCHEMA_VERSION, thresholdFiguresOf, type BenchResult, type LeakReport } from '../metrics/bench-result.js';
import { createLatencyHistogram, decodeLatencyHistogram, histogramBlock, type HistogramBlock, type LatencyHistogram } from '../metrics/histogram.js';
import type { TimeSeries } from '../metrics/time-series.js';
import { diagnoseBench } from '../metrics/diagnoses.js';
import { evaluateThresholds, parseThreshold } from '../metrics/thresholds.js';
import type { NamedResult } from './result-file.js';

function decode(block: HistogramBlock): LatencyHistogram {
  return decodeLatencyHistogram(block.hdr);
}

/** Adds encoded histograms exactly and summarizes the sum. */
export function mergeHistogramBlocks(blocks: readonly HistogramBlock[]): HistogramBlock {
  const total = createLatencyHistogram();
  for (const block of blocks) total.add(decode(block));
  return histogramBlock(total);
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
  /** Shard indexes of the run that were not given (a partial merge). */
  readonly missingShards: readonly number[];
}

/** Merges the shards of one sharded bench run (rules in the file comment). */
export function mergeResults(inputs: readonly NamedResult<BenchResult>[]): MergeOutcome {
  const { merged, warnings, missingShards } = mergeShards(inputs);
  const results = inputs.map((i) => i.result);
  const expressions: string[] = [];
  for (const r of results) for (const t of r.thresholds) if (!expressions.includes(t.expression)) expressions.push(t.expression);
  const result: BenchResult = { ...merged, ...judgeMerged(merged, expressions, results.map((r) => r.endReason)) };
  return { result, warnings, missingShards };
}

/** The shards' figures added up, not judged yet (`bench --workers` judges them on its own plan). */
export function mergeShards(inputs: readonly NamedResult<BenchResult>[]): { readonly merged: MergedFigures; readonly warnings: readonly string[]; readonly missingShards: readonly number[] } {
  const missingShards = checkShards(inputs);
  const first = (inputs[0] as NamedResult<BenchResult>).result;
  const warnings = missingShards.length === 0 ? [] : [`shard${missingShards.length === 1 ? '' : 's'} ${missingShards.join(', ')} of ${first.shard?.count ?? '?'} missing: the merged result covers only part of the run`];
  return { merged: sumShards(inputs.map((i) => i.result)), warnings, missingShards };
}

/** A result's figures without its verdict. */
export type MergedFigures = Omit<BenchResult, 'thresholds' | 'endReason' | 'diagnoses'>;

/**
 * Judges merged figures as bench judges a run (`thresholdFiguresOf`): the threshold expressions
 * on them (shards that each passed can fail together, and the other way round), the end reason
 * (`interrupted` if any shard was; else `failed` if a threshold failed or, with none at all, if
 * any shard failed), and the diagnoses. `stats merge` and `bench --workers` both end here.
 */
export function judgeMerged(merged: MergedFigures, expressions: readonly string[], shardEnds: readonly BenchResult['endReason'][]): Pick<BenchResult, 'thresholds' | 'endReason' | 'diagnoses'> {
  const thresholds = evaluateThresholds(
    expressions.map((expression) => parseThreshold(expression, `result threshold '${expression}'`)),
    thresholdFiguresOf(merged),
  );
  const isInterrupted = shardEnds.includes('interrupted');
  const isFailed = thresholds.some((t) => !t.passed) || (thresholds.length === 0 && shardEnds.includes('failed'));
  return { thresholds, endReason: isInterrupted ? 'interrupted' : isFailed ? 'failed' : 'passed', diagnoses: diagnoseBench(merged) };
}

/** Refuses inputs that are not the shards of one run (one line naming the file); returns the missing shard indexes. */
function checkShards(inputs: readonly NamedResult<BenchResult>[]): number[] {
  const first = inputs[0];
  if (first === undefined) throw new UsageError('merge: no result files given');
  const seen = new Map<number, string>();
  for (const { file, result } of inputs) {
    if (result.scenario.hash !== first.result.scenario.hash || result.scenario.name !== first.result.scenario.name) {
      throw new UsageError(`${file}: scenario ${result.scenario.name} (${result.scenario.hash}) differs from ${first.file}'s ${first.result.scenario.name} (${first.result.scenario.hash}): not shards of one run`);
    }
    if (result.runId !== first.result.runId) throw new UsageError(`${file}: run ${result.runId} differs from ${first.file}'s ${first.result.runId}: not shards of one run`, { hint: "shards of one run share a run id: start them with the same scenario and 'ssekit bench --shard i/N'" });
    // Shards of one run share one schedule: a different start means their events were never expected together.
    const startAt = result.schedule?.startAt ?? null;
    const firstStartAt = first.result.schedule?.startAt ?? null;
    if (startAt !== firstStartAt) throw new UsageError(`${file}: its publish schedule started at ${startAt ?? 'no shared time'}, ${first.file}'s at ${firstStartAt ?? 'no shared time'}: not shards of one run`, { hint: 'give every shard the same --start-at' });
    if (inputs.length > 1 && result.shard === null) throw new UsageError(`${file}: not a shard (shard is null): only the shards of one sharded run can be merged`);
    if (result.shard !== null) {
      if (first.result.shard !== null && result.shard.count !== first.result.shard.count) throw new UsageError(`${file}: shard ${result.shard.index}/${result.shard.count} does not match ${first.file}'s count of ${first.result.shard.count}`);
      const other = seen.get(result.shard.index);
      if (other !== undefined) throw new UsageError(`${file}: shard ${result.shard.index}/${result.shard.count} given twice (also ${other})`);
      seen.set(result.shard.index, file);
    }
  }
  const count = first.result.shard?.count ?? 0;
  return Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seen.has(i));
}

/** Adds the shards' figures (histograms decoded and added, counts summed). */
function sumShards(results: readonly BenchResult[]): MergedFigures {
  const first = results[0] as BenchResult;
  const pick = <T>(f: (r: BenchResult) => T): T[] => results.map(f);
  const eventKeys = Object.keys(first.events) as (keyof BenchResult['events'])[];
  const events = Object.fromEntries(eventKeys.map((k) => [k, sum(pick((r) => r.events[k] ?? 0))])) as unknown as BenchResult['events'];
  const nullableSum = (values: readonly (number | null | undefined)[]): number | null => (values.some((v) => v === null || v === undefined) ? null : sum(values as number[]));
  const targets = [...new Set(pick((r) => r.target))];
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'bench',
    tool: first.tool,
    scenario: first.scenario,
    runId: first.runId,
    shard: null,
    startedAt: pick((r) => r.startedAt).sort()[0] as string,
    endedAt: pick((r) => r.endedAt).sort().at(-1) as string,
    durationMs: Math.max(...pick((r) => r.durationMs)),
    // Shards may have been pointed at different workers of one backend.
    target: targets.join(', '),
    ...(first.identity === undefined ? {} : { identity: first.identity }),
    clients: { planned: sum(pick((r) => r.clients.planned)), peakOpen: sum(pick((r) => r.clients.peakOpen)), opens: sum(pick((r) => r.clients.opens)), meanOpen: nullableSum(pick((r) => r.clients.meanOpen)) },
    schedule: first.schedule ?? null,
    connect: { headers: mergeHistogramBlocks(pick((r) => r.connect.headers)), firstEvent: mergeHistogramBlocks(pick((r) => r.connect.firstEvent)) },
    latency: mergeHistogramBlocks(pick((r) => r.latency)),
    ...(results.every((r) => r.interEvent !== undefined) ? { interEvent: mergeHistogramBlocks(pick((r) => r.interEvent as HistogramBlock)) } : {}),
    ...mergeSeriesOf(results),
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
      socketsAtStart: nullableSum(pick((r) => r.self.socketsAtStart)),
      socketsAtEnd: nullableSum(pick((r) => r.self.socketsAtEnd)),
      // Each shard's latency carries its own lag: the merged run is as trustworthy as its worst shard.
      ...worstLag(results),
    },
  };
}

/**
 * The shards' series side by side on one clock: each shard's buckets shifted by how much later
 * than the first it started, at the coarsest bucket width of them. Counts add up; open streams
 * too, each shard's as it stood at the end of the bucket (what `open` means in one run's series,
 * whose own coarsening keeps the later bucket's level); the server's count is one server's (the
 * first shard's that read it); latency p99 is the worst shard's and p50 the count-weighted mean
 * (the merged histogram stays exact); lag the worst.
 */
function mergeSeriesOf(results: readonly BenchResult[]): { series?: TimeSeries } {
  const withSeries = results.filter((r) => r.series !== undefined);
  if (withSeries.length === 0) return {};
  const bucketMs = Math.max(...withSeries.map((r) => (r.series as TimeSeries).bucketMs));
  const t0 = Math.min(...withSeries.map((r) => Date.parse(r.startedAt)));
  const length = Math.max(...withSeries.map((r) => Math.ceil(((Date.parse(r.startedAt) - t0) + (r.series as TimeSeries).open.length * (r.series as TimeSeries).bucketMs) / bucketMs)));
  const zeros = (): number[] => new Array<number>(length).fill(0);
  const merged = { open: zeros(), server: new Array<number | null>(length).fill(null), deliveries: zeros(), connects: zeros(), reconnects: zeros(), errors: zeros(), lagMs: zeros() };
  const p50Sum = zeros();
  const p50Weight = zeros();
  const p99 = new Array<number | null>(length).fill(null);
  for (const r of withSeries) {
    const series = r.series as TimeSeries;
    const offsetMs = Date.parse(r.startedAt) - t0;
    // This shard's level at the end of each merged bucket: its last bucket that falls there.
    const openAtEnd = new Map<number, number>();
    series.open.forEach((open, i) => {
      const at = Math.min(length - 1, Math.floor((offsetMs + i * series.bucketMs) / bucketMs));
      const weight = series.deliveries[i] ?? 0;
      openAtEnd.set(at, open);
      merged.server[at] ??= series.server[i] ?? null;
      for (const key of ['deliveries', 'connects', 'reconnects', 'errors'] as const) merged[key][at] = (merged[key][at] ?? 0) + (series[key][i] ?? 0);
      merged.lagMs[at] = Math.max(merged.lagMs[at] ?? 0, series.lagMs[i] ?? 0);
      const bucketP50 = series.latencyP50Ms[i];
      const bucketP99 = series.latencyP99Ms[i];
      if (bucketP50 !== null && bucketP50 !== undefined) {
        p50Sum[at] = (p50Sum[at] ?? 0) + bucketP50 * Math.max(1, weight);
        p50Weight[at] = (p50Weight[at] ?? 0) + Math.max(1, weight);
      }
      if (bucketP99 !== null && bucketP99 !== undefined) p99[at] = Math.max(p99[at] ?? 0, bucketP99);
    });
    for (const [at, open] of openAtEnd) merged.open[at] = (merged.open[at] ?? 0) + open;
  }
  return {
    series: {
      bucketMs,
      ...merged,
      latencyP50Ms: p50Sum.map((sum, i) => ((p50Weight[i] ?? 0) === 0 ? null : sum / (p50Weight[i] as number))),
      latencyP99Ms: p99,
    },
  };
}

function worstLag(results: readonly BenchResult[]): Pick<BenchResult['self'], 'eventLoopDelay' | 'cpuShare'> {
  const measured = results.filter((r) => r.self.eventLoopDelay !== undefined);
  if (measured.length === 0) return {};
  const lags = measured.map((r) => r.self.eventLoopDelay as NonNullable<BenchResult['self']['eventLoopDelay']>);
  const worst = lags.reduce((a, b) => (b.p99Ms > a.p99Ms ? b : a));
  return { eventLoopDelay: worst, cpuShare: Math.max(...measured.map((r) => r.self.cpuShare ?? 0)) };
}

function mergeLeaks(results: readonly BenchResult[]): LeakReport {
  const ranked = [...results].sort((a, b) => b.leak.samples.length - a.leak.samples.length || b.endedAt.localeCompare(a.endedAt));
  const base = (ranked[0] as BenchResult).leak;
  const extreme = (values: readonly (number | null | undefined)[], pick: (...numbers: number[]) => number): number | null => {
    const numbers = values.filter((v): v is number => typeof v === 'number');
    return numbers.length === 0 ? null : pick(...numbers);
  };
  const verdicts = results.map((r) => r.leak.verdict);
  // As conservative as the worst shard: a leak, then a server that lost count of streams.
  const verdict = verdicts.includes('leak') ? 'leak' : verdicts.includes('undercount') ? 'undercount' : verdicts.includes('ok') ? 'ok' : 'unknown';
  return {
    ...base,
    leaked: extreme(results.map((r) => r.leak.leaked), Math.max),
    maxDrift: extreme(results.map((r) => r.leak.maxDrift), Math.max),
    minDrift: extreme(results.map((r) => r.leak.minDrift), Math.min),
    undercounted: extreme(results.map((r) => r.leak.undercounted), Math.max),
    verdict,
  };
}

