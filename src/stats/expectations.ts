/**
 * `--expect '<selector><op><value>'` gates on server figures, e.g. `sse_connections_active==0`
 * after a test (the stream count is back to zero), `total_connections<100`, or
 * `sse_connection_duration_seconds:p99<=5`. A figure that is absent fails (a gate on nothing
 * must not pass silently: k6 users were bitten by exactly that).
 */
import { compare, type CompareOp } from '../metrics/thresholds.js';
import { UsageError } from '../core/errors.js';
import { selectFigure } from '../server-stats/read-stats.js';
import type { ServerStats } from '../server-stats/types.js';

/** Comparison operators (the thresholds' ones), longest first so `<=` is not read as `<`. */
const EXPECT_OPS: readonly CompareOp[] = ['<=', '>=', '==', '!=', '<', '>'];
export type ExpectOp = CompareOp;

/** A parsed `--expect`. */
export interface Expectation {
  /** As written. */
  readonly expression: string;
  readonly selector: string;
  readonly op: ExpectOp;
  readonly threshold: number;
}

/** One expectation checked against one sample. */
export interface ExpectationResult {
  readonly expression: string;
  /** The figure's value; null when absent. */
  readonly value: number | null;
  readonly passed: boolean;
  /** Why it failed (`no such figure`, `is NaN`, `2 is not == 0`). */
  readonly reason?: string;
}

/**
 * Parses an expectation. The operator is the first `<`, `>`, `=` or `!` outside `{...}`,
 * `[...]` and quotes, so label matchers (`{role!="x"}`) and JSON indexes stay in the selector.
 */
export function parseExpectation(text: string): Expectation {
  const bad = (why: string): never => {
    throw new UsageError(`--expect '${text}': ${why}`, { hint: `e.g. --expect 'sse_connections_active==0' (ops < <= > >= == !=)` });
  };
  let depth = 0;
  let quote: string | undefined;
  let at = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === '\\') i += 1;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') depth -= 1;
    else if (depth === 0 && '<>=!'.includes(c)) {
      at = i;
      break;
    }
  }
  if (at <= 0) return bad(at === 0 ? 'no figure before the operator' : 'no operator');
  const op = EXPECT_OPS.find((candidate) => text.startsWith(candidate, at));
  if (op === undefined) return bad(`'${text.slice(at, at + 2)}' is not an operator (use == for equality)`);
  const selector = text.slice(0, at).trim();
  const valueText = text.slice(at + op.length).trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(valueText)) return bad(`'${valueText}' is not a number`);
  return { expression: text.trim(), selector, op, threshold: Number(valueText) };
}

/** Checks every expectation against one sample. */
export function evaluateExpectations(stats: ServerStats, expectations: readonly Expectation[]): ExpectationResult[] {
  return expectations.map((e) => {
    const value = selectFigure(stats, e.selector);
    if (value === undefined) return { expression: e.expression, value: null, passed: false, reason: 'no such figure' };
    if (Number.isNaN(value)) return { expression: e.expression, value, passed: false, reason: 'the figure is NaN' };
    const passed = compare(value, e.op, e.threshold);
    return passed ? { expression: e.expression, value, passed } : { expression: e.expression, value, passed, reason: `${value} is not ${e.op} ${e.threshold}` };
  });
}
