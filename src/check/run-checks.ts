/**
 * `runChecks`: a contract's checks against a backend, one after another (they share the
 * server's figures and its per-user limits, so never at once), each bounded by its own
 * timeout. Phases: reach the target (exit 3 when nothing answers) → each check (skip what
 * would take longer than allowed; run; collect its verdict) → the result. A `CheckRunResult`
 * always comes back, Ctrl-C included (`endReason: 'interrupted'`).
 */
import type { Dispatcher } from 'undici';
import { ConnectError, InterruptedError, SsekitError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import { settleOrAbort } from '../core/sleep.js';
import { discardBody, getFollowingRedirects } from '../transport/follow-redirects.js';
import { connectErrorFor } from '../transport/open-stream.js';
import { createCheckContext } from './context.js';
import { seconds } from './evidence.js';
import { createTokenMint, SkipCheck, type TokenMint } from './identities.js';
import { runnerFor } from './kinds/index.js';
import type { CheckPlan, CheckSpec } from './plan.js';
import { CHECK_RESULT_SCHEMA_VERSION, summarizeChecks, type CheckOutcome, type CheckResult, type CheckRunResult } from './result.js';

/** How a run is driven. */
export interface CheckRunOptions {
  readonly dispatcher: Dispatcher;
  /** Ctrl-C: the current check stops, the rest do not run. */
  readonly signal: AbortSignal;
  readonly version: string;
  /** Called before each check starts, with the longest it means to take (progress). */
  readonly onStart?: ((spec: CheckSpec, plannedMs: number) => void) | undefined;
  /** Called with each verdict as soon as it is known. */
  readonly onResult?: ((result: CheckResult) => void) | undefined;
  /** Slack added to a check's own planned time before it is cut off, ms (default 15 000). */
  readonly slackMs?: number | undefined;
}

/** The run's state, shared by its phases. */
interface RunState {
  readonly plan: CheckPlan;
  readonly options: CheckRunOptions;
  readonly tokens: TokenMint;
  readonly markerPrefix: string;
  readonly startedAt: Date;
  readonly results: CheckResult[];
}

/** Runs every check of the plan; throws `ConnectError` (exit 3) only when the target cannot be reached at all. */
export async function runChecks(plan: CheckPlan, options: CheckRunOptions): Promise<CheckRunResult> {
  const state: RunState = {
    plan,
    options,
    tokens: createTokenMint({ auth: plan.auth, identities: plan.identities, defaultIdentity: plan.as }),
    markerPrefix: `ssk_chk${Math.random().toString(36).slice(2, 8)}_`,
    startedAt: new Date(),
    results: [],
  };
  await reachTarget(plan, options);
  for (const spec of plan.checks) {
    if (options.signal.aborted) break;
    options.onStart?.(spec, runnerFor(spec).plannedMs(spec));
    const result = await runOne(spec, state);
    state.results.push(result);
    options.onResult?.(result);
  }
  return assemble(state);
}

/** A GET of the first check's stream without credentials: any HTTP answer means the target is there. */
async function reachTarget(plan: CheckPlan, options: CheckRunOptions): Promise<void> {
  const first = plan.checks[0];
  const url = new URL(first?.stream ?? '/', plan.target.endsWith('/') ? plan.target : `${plan.target}/`);
  const signal = AbortSignal.any([options.signal, AbortSignal.timeout(plan.connectTimeoutMs)]);
  try {
    const { response } = await getFollowingRedirects({ url, headers: { accept: 'text/event-stream', ...plan.headers }, dispatcher: options.dispatcher, signal });
    discardBody(response.body);
  } catch (error) {
    if (options.signal.aborted) throw new InterruptedError();
    const reason = connectErrorFor(error, url);
    throw new ConnectError(`cannot reach the target: ${reason.message.replace(/^cannot connect: /, '')}`, { code: reason.code, cause: error, hint: `is the backend running at ${redactUrl(plan.target)}? (--target overrides the contract's)` });
  }
}

/** One check with its own timeout; its verdict, never an exception for what the server did. */
async function runOne(spec: CheckSpec, state: RunState): Promise<CheckResult> {
  const runner = runnerFor(spec);
  const plannedMs = runner.plannedMs(spec);
  const startedAtMs = performance.now();
  const finish = (outcome: CheckOutcome): CheckResult => ({ name: spec.name, kind: spec.kind, cites: spec.cites, ...outcome, durationMs: Math.round(performance.now() - startedAtMs) });
  if (plannedMs > state.plan.maxCheckMs) {
    return finish({ status: 'skip', evidence: `would take ${seconds(plannedMs)}, over --max-check-time ${seconds(state.plan.maxCheckMs)}${runner.shortenedBy === undefined ? '' : `: shorten it with ${runner.shortenedBy}`}` });
  }
  const budgetMs = plannedMs + (state.options.slackMs ?? 15_000);
  const timeout = AbortSignal.timeout(budgetMs);
  const signal = AbortSignal.any([state.options.signal, timeout]);
  const { ctx, release } = createCheckContext(state.plan, { dispatcher: state.options.dispatcher, signal, tokens: state.tokens, markerPrefix: `${state.markerPrefix}${state.results.length}_` });
  try {
    const outcome = await runWithin(runner.run(spec, ctx), signal);
    if (state.options.signal.aborted) return finish({ status: 'fail', evidence: 'interrupted (Ctrl-C) before the check finished' });
    if (outcome === undefined) return finish({ status: 'fail', evidence: `did not finish within ${seconds(budgetMs)}` });
    return finish(outcome);
  } catch (error) {
    return finish(outcomeOfError(error, state.options.signal));
  } finally {
    release();
  }
}

/** The check's outcome, or undefined when its signal aborted first (a check stuck on a socket must not hold the run). */
async function runWithin(running: Promise<CheckOutcome>, signal: AbortSignal): Promise<CheckOutcome | undefined> {
  // settleOrAbort handles a later rejection of `running`; a rejection before the abort is rethrown here.
  return (await settleOrAbort(running, signal)) ? await running : undefined;
}

/** A skip, or a failure saying what went wrong (a producer that refused, a target gone). A bug is rethrown. */
function outcomeOfError(error: unknown, runSignal: AbortSignal): CheckOutcome {
  if (error instanceof SkipCheck) return { status: 'skip', evidence: error.message };
  if (runSignal.aborted) return { status: 'fail', evidence: 'interrupted (Ctrl-C) before the check finished' };
  if (error instanceof SsekitError) return { status: 'fail', evidence: error.message, ...(error.hint === undefined ? {} : { details: [`hint: ${error.hint}`] }) };
  throw error;
}

function assemble(state: RunState): CheckRunResult {
  const endedAt = new Date();
  return {
    schemaVersion: CHECK_RESULT_SCHEMA_VERSION,
    kind: 'check',
    tool: { name: 'ssekit', version: state.options.version },
    contract: { name: state.plan.name, source: state.plan.source },
    target: redactUrl(state.plan.target),
    startedAt: state.startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    durationMs: endedAt.getTime() - state.startedAt.getTime(),
    ...summarizeChecks(state.results, state.options.signal.aborted),
    checks: state.results,
  };
}
