/**
 * Thresholds in a small syntax k6 users recognise: `p99<500ms`, `p(99)<500`, `max<1s`,
 * `loss==0`, `leaks==0`, `errors<1%`, `connect.p95<1s`, `firstEvent.p50<2s`,
 * `reconnects<100`, `duplicates==0`. Latencies without a unit are milliseconds (as k6).
 * A threshold on a figure that has no samples FAILS (k6 lets it pass silently: users were
 * bitten by that).
 */
import { UsageError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';

/** A parsed threshold. */
export interface Threshold {
  readonly expression: string;
  /** Canonical figure name, e.g. `latency.p99`, `loss`, `errors`. */
  readonly metric: string;
  readonly op: CompareOp;
  /** ms for latencies; a count, or a fraction when `isRatio`. */
  readonly value: number;
  /** `errors<1%`, `loss<0.1%`: compared as a fraction of a total. */
  readonly isRatio: boolean;
}

/** The figures thresholds are checked against. Latency stats in ms, NaN when no samples. */
export interface ThresholdFigures {
  /** `latency.p99`, `connect.p95`, `firstEvent.max`, … */
  readonly latency: (group: LatencyGroup, stat: string) => number;
  /** Count figures with their totals (for `%`): loss, leaks, errors, duplicates, reconnects, outOfOrder. */
  readonly count: (name: string) => { value: number; total: number } | undefined;
  /** Why a figure was not measured, when the result knows (`interrupted during settle`). */
  readonly unmeasuredReason?: (name: string) => string | undefined;
}

const STATS = new Set(['min', 'max', 'mean', 'avg', 'med', 'p50', 'p75', 'p90', 'p95', 'p99', 'p999', 'p99.9']);
const COUNTS = new Set(['loss', 'lost', 'leaks', 'leaked', 'undercount', 'open', 'errors', 'duplicates', 'duplicated', 'reconnects', 'outoforder', 'producererrors']);
/** The distributions a latency threshold can name: delivery, connect, first event, and ssekit's own event-loop lag. */
export type LatencyGroup = 'latency' | 'connect' | 'firstEvent' | 'gap' | 'lag';
const GROUPS: Readonly<Record<string, LatencyGroup>> = { latency: 'latency', delivery: 'latency', connect: 'connect', firstevent: 'firstEvent', first_event: 'firstEvent', gap: 'gap', lag: 'lag' };
const THRESHOLD_RE = /^\s*([A-Za-z_][\w.]*(?:\(\s*\d+(?:\.\d+)?\s*\))?)\s*(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+)?)\s*([a-zµ%]*)\s*$/i;

/** Parses one threshold; `UsageError` with the accepted forms when it cannot. `where` names its origin in messages. */
export function parseThreshold(expression: string, where = `--threshold '${expression}'`): Threshold {
  const match = THRESHOLD_RE.exec(expression);
  const fail = (why: string): never => {
    throw new UsageError(`${where}: ${why}`, { hint: "e.g. 'p99<500ms', 'p(95)<1s', 'loss==0', 'leaks==0', 'errors<1%', 'connect.p95<1s'" });
  };
  if (match === null) return fail('not of the form <figure><op><value>');
  const [, rawFigure = '', op = '<', number = '0', unit = ''] = match;
  let figure = rawFigure.toLowerCase().replace(/\s+/g, '');
  // k6's p(99) and p(99.9) → p99, p999.
  figure = figure.replace(/p\((\d+)(?:\.(\d+))?\)/, (_m, a: string, b: string | undefined) => `p${a}${b ?? ''}`);
  const parts = figure.split('.');
  let metric: string;
  let isLatency = false;
  if (parts.length === 1 && STATS.has(parts[0] as string)) {
    metric = `latency.${canonicalStat(parts[0] as string)}`;
    isLatency = true;
  } else if (parts.length === 2 && GROUPS[parts[0] as string] !== undefined && STATS.has(parts[1] as string)) {
    metric = `${GROUPS[parts[0] as string]}.${canonicalStat(parts[1] as string)}`;
    isLatency = true;
  } else if (parts.length === 1 && COUNTS.has(parts[0] as string)) {
    metric = canonicalCount(parts[0] as string);
  } else {
    return fail(`unknown figure '${rawFigure}' (latency: p50 p90 p95 p99 p999 max mean min, optionally connect., firstEvent., gap. or lag.; counts: loss leaks undercount open errors duplicates reconnects outOfOrder producerErrors)`);
  }
  let value = Number(number);
  let isRatio = false;
  if (isLatency) {
    if (unit === '%') return fail('a latency takes a duration, not a percentage');
    value = unit === '' ? value : parseDuration(`${number}${unit}`, '--threshold');
  } else if (unit === '%') {
    isRatio = true;
    value /= 100;
  } else if (unit !== '') return fail(`'${unit}' is not a unit for ${metric}`);
  return { expression: expression.trim(), metric, op: op as Threshold['op'], value, isRatio };
}

function canonicalStat(stat: string): string {
  if (stat === 'avg') return 'mean';
  if (stat === 'med') return 'p50';
  if (stat === 'p99.9') return 'p999';
  return stat;
}

function canonicalCount(name: string): string {
  switch (name) {
    case 'lost':
      return 'loss';
    case 'leaked':
      return 'leaks';
    case 'duplicated':
      return 'duplicates';
    case 'outoforder':
      return 'outOfOrder';
    case 'producererrors':
      return 'producerErrors';
    default:
      return name;
  }
}

/** One threshold's verdict (as result files carry it). */
export interface ThresholdVerdict {
  /** As written, e.g. `p99<500ms`. */
  readonly expression: string;
  /** The figure checked, e.g. `latency.p99`. */
  readonly metric: string;
  /** Its value (ms for latencies, a fraction for rates); null when it had no samples. */
  readonly value: number | null;
  readonly passed: boolean;
  /** Why it failed, e.g. `no samples`. */
  readonly reason?: string;
}

/** Checks thresholds against the figures. */
export function evaluateThresholds(thresholds: readonly Threshold[], figures: ThresholdFigures): ThresholdVerdict[] {
  return thresholds.map((threshold) => {
    let actual: number;
    if (threshold.metric.includes('.')) {
      const [group, stat] = threshold.metric.split('.') as [LatencyGroup, string];
      actual = figures.latency(group, stat);
    } else {
      const count = figures.count(threshold.metric);
      if (count === undefined) return { expression: threshold.expression, metric: threshold.metric, value: null, passed: false, reason: figures.unmeasuredReason?.(threshold.metric) ?? 'not measured in this run' };
      if (threshold.isRatio) {
        if (count.total === 0) return { expression: threshold.expression, metric: threshold.metric, value: null, passed: false, reason: 'no samples' };
        actual = count.value / count.total;
      } else actual = count.value;
    }
    if (Number.isNaN(actual)) return { expression: threshold.expression, metric: threshold.metric, value: null, passed: false, reason: 'no samples' };
    return { expression: threshold.expression, metric: threshold.metric, value: actual, passed: compare(actual, threshold.op, threshold.value) };
  });
}

/** The comparison operators of thresholds and `stats --expect`. */
export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** Whether `actual op expected` holds. */
export function compare(actual: number, op: CompareOp, expected: number): boolean {
  switch (op) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    case '==':
      return actual === expected;
    case '!=':
      return actual !== expected;
  }
}

/** ssekit's own event-loop lag (p99) over which its latency figures are its own: the lag guard's default. */
export const DEFAULT_MAX_SELF_LAG_MS = 50;

/**
 * Guards judged on every run unless a threshold of the user's names the same figure: a run
 * whose clients never stayed open does not pass (`open>=95%`: time-weighted streams open, or
 * down on purpose for churn, over the steady state), nor one whose server lost count of its
 * streams, nor one where ssekit itself was saturated (`lag.p99<50ms`: its event loop ran that
 * late, so its latency figures are its own). They catch the runs that measured nothing true.
 */
export function withGuardThresholds(thresholds: readonly string[], options: { readonly hasServerStats: boolean; readonly maxSelfLagMs?: number | undefined }): string[] {
  const guards = ['open>=95%', `lag.p99<${options.maxSelfLagMs ?? DEFAULT_MAX_SELF_LAG_MS}ms`, ...(options.hasServerStats ? ['undercount==0'] : [])];
  const named = new Set(thresholds.map((t) => parseThreshold(t).metric));
  return [...thresholds, ...guards.filter((g) => !named.has(parseThreshold(g).metric))];
}
