/**
 * Comparing two runs figure by figure (bench or publish results: the figures they share side
 * by side, each with its change), and the p99 regression gate of `stats compare`.
 */
import { parseDuration } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import type { BenchResult, LeakReport } from '../metrics/bench-result.js';
import type { LatencySummary } from '../metrics/histogram.js';
import type { PublishResult } from '../metrics/publish-result.js';
import type { ResultFile } from './result-file.js';

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

/** One side of a comparison, as the table heads it. */
export interface ComparedRun {
  readonly kind: ResultFile['kind'];
  /** The scenario (bench) or the producer (publish). */
  readonly scenario: string;
  readonly runId: string | null;
  readonly endReason: BenchResult['endReason'];
  /** The leak verdict; null for publish results (they measure no leaks). */
  readonly leak: LeakReport['verdict'] | null;
}

/** The comparison of two runs. */
export interface Comparison {
  readonly base: ComparedRun;
  readonly next: ComparedRun;
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

/** A figure of one run, before it is set beside the other's. */
interface RunFigure {
  readonly figure: string;
  readonly unit: ComparedFigure['unit'];
  readonly better: ComparedFigure['better'];
  readonly value: number | null;
}

const LATENCY_STATS: readonly [string, keyof LatencySummary][] = [
  ['p50', 'p50Ms'],
  ['p90', 'p90Ms'],
  ['p95', 'p95Ms'],
  ['p99', 'p99Ms'],
  ['p99.9', 'p999Ms'],
  ['max', 'maxMs'],
  ['mean', 'meanMs'],
];

function latencyFigures(label: string, summary: LatencySummary, stats: readonly [string, keyof LatencySummary][]): RunFigure[] {
  return stats.map(([name, key]) => ({ figure: `${label} ${name}`, unit: 'ms', better: 'lower', value: nan(summary[key]) }));
}

const count = (figure: string, better: ComparedFigure['better'], value: number | null): RunFigure => ({ figure, unit: 'count', better, value });
const ratio = (lost: number, expected: number): RunFigure => ({ figure: 'loss rate', unit: 'ratio', better: 'lower', value: expected > 0 ? lost / expected : null });
const P50_P99 = LATENCY_STATS.filter(([name]) => name === 'p50' || name === 'p99');

/** Completeness, the same for both kinds. */
function deliveryFigures(published: number, d: { readonly expectedDeliveries: number; readonly delivered: number; readonly lost: number; readonly duplicated: number }): RunFigure[] {
  return [
    count('events published', 'neither', published),
    count('deliveries expected', 'neither', d.expectedDeliveries),
    count('delivered', 'higher', d.delivered),
    count('lost', 'lower', d.lost),
    ratio(d.lost, d.expectedDeliveries),
    count('duplicated', 'lower', d.duplicated),
  ];
}

/** The figures of a bench run, in table order. */
function benchFigures(r: BenchResult): RunFigure[] {
  const e = r.events;
  return [
    ...latencyFigures('latency', r.latency.summary, LATENCY_STATS),
    count('latency samples', 'neither', r.latency.summary.count),
    ...latencyFigures('connect', r.connect.headers.summary, P50_P99),
    ...latencyFigures('first event', r.connect.firstEvent.summary, P50_P99),
    ...(r.interEvent === undefined ? [] : latencyFigures('gap between events', r.interEvent.summary, P50_P99)),
    count('peak open streams', 'neither', r.clients.peakOpen),
    ...deliveryFigures(e.published, e),
    count('out of order', 'lower', e.outOfOrder),
    count('missed during reconnect', 'lower', e.missedDuringReconnect),
    count('publish errors', 'lower', e.publishErrors),
    count('reconnects', 'neither', r.reconnects.total),
    count('errors', 'lower', r.errors.total),
    count('leaked streams', 'lower', r.leak.leaked),
  ];
}

/** The figures of a publish run: the same names where they mean the same. */
function publishFigures(r: PublishResult): RunFigure[] {
  return [
    ...latencyFigures('latency', r.latency.summary, LATENCY_STATS),
    count('latency samples', 'neither', r.latency.summary.count),
    ...latencyFigures('producer call', r.callLatency.summary, P50_P99),
    count('watchers', 'neither', r.watchers),
    ...deliveryFigures(r.sent, r),
    count('publish errors', 'lower', r.producerErrors),
  ];
}

const figuresOf = (r: ResultFile): RunFigure[] => (r.kind === 'bench' ? benchFigures(r) : publishFigures(r));

function sideOf(r: ResultFile): ComparedRun {
  return r.kind === 'bench'
    ? { kind: 'bench', scenario: r.scenario.name, runId: r.runId, endReason: r.endReason, leak: r.leak.verdict }
    : { kind: 'publish', scenario: `publish via ${r.producer}`, runId: null, endReason: r.endReason, leak: null };
}

function isSameScenario(base: ResultFile, next: ResultFile): boolean {
  if (base.kind === 'bench' && next.kind === 'bench') return base.scenario.hash === next.scenario.hash;
  if (base.kind === 'publish' && next.kind === 'publish') return base.producer === next.producer;
  return false;
}

/** Compares two runs figure by figure (figures only one kind has are shown with n/a on the other side); with `maxRegression`, gates the p99 latency. */
export function compareResults(base: ResultFile, next: ResultFile, options: { readonly maxRegression?: RegressionLimit } = {}): Comparison {
  const baseFigures = figuresOf(base);
  const nextFigures = figuresOf(next);
  const nextByName = new Map(nextFigures.map((f) => [f.figure, f]));
  const baseNames = new Set(baseFigures.map((f) => f.figure));
  const rows: { figure: RunFigure; b: number | null; n: number | null }[] = [
    ...baseFigures.map((f) => ({ figure: f, b: f.value, n: nextByName.get(f.figure)?.value ?? null })),
    ...nextFigures.filter((f) => !baseNames.has(f.figure)).map((f) => ({ figure: f, b: null, n: f.value })),
  ];
  const figures = rows.map(({ figure, b, n }): ComparedFigure => {
    const change = b === null || n === null ? null : n - b;
    const changePct = change === null || b === null ? null : b === 0 ? (change === 0 ? 0 : Number.POSITIVE_INFINITY) : (change / Math.abs(b)) * 100;
    return { figure: figure.figure, unit: figure.unit, base: b, next: n, change, changePct, better: figure.better };
  });
  const regression = options.maxRegression === undefined ? undefined : checkRegression(nan(base.latency.summary.p99Ms), nan(next.latency.summary.p99Ms), options.maxRegression);
  return { base: sideOf(base), next: sideOf(next), isSameScenario: isSameScenario(base, next), figures, ...(regression === undefined ? {} : { regression }) };
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
