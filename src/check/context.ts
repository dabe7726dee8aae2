/**
 * What a check kind gets to work with (its own file, so the kinds and the registry that lists
 * them both import down to it): where the target is, tokens, probes that are closed when the
 * check ends, producer calls, and the check's signal (aborted on its timeout or on Ctrl-C).
 */
import type { Dispatcher } from 'undici';
import { sleep } from '../core/sleep.js';
import type { TokenPlacement } from '../transport/auth.js';
import type { TokenMint, TokenRequest } from './identities.js';
import type { CheckPlan, CheckSpec } from './plan.js';
import { openProbe, type Probe } from './probe.js';
import { runProduceStep, type ProduceOutcome } from './produce.js';
import type { ProduceStep } from './plan.js';
import type { CheckOutcome } from './result.js';

/** The tools of one check. */
export interface CheckContext {
  readonly plan: CheckPlan;
  readonly dispatcher: Dispatcher;
  /** Aborted when the check times out or the run is interrupted. */
  readonly signal: AbortSignal;
  /** A path on the target (or an absolute URL) as a URL. */
  readonly url: (pathOrUrl: string) => URL;
  readonly token: (request: TokenRequest) => Promise<TokenPlacement>;
  /** Opens a stream; every probe is closed when the check ends. */
  readonly open: (pathOrUrl: string, token: TokenPlacement | undefined, options?: { readonly lastEventId?: string }) => Promise<Probe>;
  /** Calls the producer for one event; `seq` picks its marker; `asToken`: as this user (default a fresh one of `step.as`). */
  readonly produce: (step: ProduceStep, seq: number, previousResponse?: string, asToken?: TokenPlacement) => Promise<ProduceOutcome>;
  /** Waits; false when the check was aborted meanwhile. */
  readonly sleep: (ms: number) => Promise<boolean>;
}

/** A check kind: how long it means to take at most, and how it runs. */
export interface CheckKindRunner<S extends CheckSpec = CheckSpec> {
  /** The longest the check intends to wait (its observation windows and timeouts), ms. */
  readonly plannedMs: (spec: S) => number;
  /** The flag that shortens it, named when it is skipped for taking too long. */
  readonly shortenedBy?: string;
  readonly run: (spec: S, ctx: CheckContext) => Promise<CheckOutcome>;
}

/** Builds a check's context; `release()` closes what it opened. */
export function createCheckContext(plan: CheckPlan, options: { readonly dispatcher: Dispatcher; readonly signal: AbortSignal; readonly tokens: TokenMint; readonly markerPrefix: string }): { ctx: CheckContext; release: () => void } {
  const probes = new Set<Probe>();
  const url = (pathOrUrl: string): URL => new URL(pathOrUrl, plan.target.endsWith('/') ? plan.target : `${plan.target}/`);
  const ctx: CheckContext = {
    plan,
    dispatcher: options.dispatcher,
    signal: options.signal,
    url,
    token: options.tokens.tokenFor,
    async open(pathOrUrl, token, openOptions = {}) {
      const probe = await openProbe({ url: url(pathOrUrl), token, headers: plan.headers, lastEventId: openOptions.lastEventId, dispatcher: options.dispatcher, signal: options.signal });
      probes.add(probe);
      return probe;
    },
    produce: (step, seq, previousResponse, asToken) => runProduceStep(step, { seq, previousResponse, asToken, markerPrefix: options.markerPrefix, url, token: options.tokens.tokenFor, headers: plan.headers, dispatcher: options.dispatcher, timeoutMs: plan.connectTimeoutMs }),
    sleep: (ms) => sleep(ms, options.signal),
  };
  return {
    ctx,
    release: () => {
      for (const probe of probes) probe.close();
    },
  };
}
