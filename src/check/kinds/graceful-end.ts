/**
 * Check `graceful-end`: how the server ends a stream when the contract says it does — after
 * inactivity (CONTRACTS §1 "disconnect after 1 hour of inactivity"), for a token that may not
 * use it (§5 "`event: error` + `{"code":"forbidden"}` then close"), when a newer stream
 * replaces it, or after a request such as a logout (§1 "graceful disconnect on logout"). The end
 * must be clean (the response's terminator, not a reset), may have to be preceded by a given
 * event, and a reconnect may have to get a given status (WHATWG: 204 tells EventSource to stop).
 *
 *     graceful-end: {trigger: inactivity, after: 1h, within: 2s}
 *     graceful-end: {trigger: identity, as: no-channels, finalEvent: {type: error, data: {code: forbidden}}}
 *     graceful-end: {trigger: request, request: POST /logout, reconnect: 204}
 */
import { isDeepStrictEqual } from 'node:util';
import { parseJsonObject } from '../../stream/normalize.js';
import type { TokenPlacement } from '../../transport/auth.js';
import type { CheckContext, CheckKindRunner } from '../context.js';
import { describeResponse, fail, notOpened, pass, quoted, seconds } from '../evidence.js';
import type { EndTrigger, GracefulEndCheck } from '../plan.js';
import type { Probe } from '../probe.js';
import { BASE_KEYS, parseRequestLine, readIdentity, type CheckReader } from '../read-common.js';
import type { CheckOutcome } from '../result.js';

/** Reads `checks.<name>` of kind graceful-end; `--inactivity-timeout` replaces `after`. */
export const readGracefulEndCheck: CheckReader<GracefulEndCheck> = (f, base, env) => {
  f.allowOnly([...BASE_KEYS, 'trigger', 'after', 'request', 'identity', 'finalEvent', 'end', 'reconnect', 'within']);
  const kind = f.oneOf('trigger', ['inactivity', 'newer-stream', 'identity', 'request'], 'inactivity');
  let trigger: EndTrigger;
  if (kind === 'inactivity') trigger = { kind, afterMs: env.overrides.inactivityTimeoutMs ?? f.duration('after', 3_600_000) };
  else if (kind === 'identity') trigger = { kind, as: readIdentity(f, 'identity', '', env) };
  else if (kind === 'request') {
    const line = parseRequestLine(f.requiredString('request'));
    if (line === undefined) f.problem("must be '<METHOD> <path>', such as 'POST /logout'", 'request');
    trigger = { kind, method: line?.method ?? 'POST', url: line?.url ?? '' };
  } else trigger = { kind };
  const final = f.section('finalEvent');
  final?.allowOnly(['type', 'data']);
  const reconnect = f.has('reconnect') ? f.integer('reconnect', 204, 100) : undefined;
  return {
    ...base,
    kind: 'graceful-end',
    trigger,
    finalEvent: final === undefined ? undefined : { type: final.requiredString('type'), data: final.mapping('data') },
    end: f.oneOf('end', ['clean', 'any'], 'clean'),
    reconnectStatus: reconnect,
    withinMs: f.duration('within', 2_000),
  };
};

/** Runs a graceful-end check. */
export const gracefulEndRunner: CheckKindRunner<GracefulEndCheck> = {
  plannedMs: (spec) => (spec.trigger.kind === 'inactivity' ? spec.trigger.afterMs : 0) + spec.withinMs * 2,
  shortenedBy: '--inactivity-timeout (with the backend configured to match)',
  async run(spec, ctx) {
    const token = await ctx.token({ as: spec.trigger.kind === 'identity' ? spec.trigger.as : spec.as });
    const ended = await triggerEnd(spec, ctx, token);
    if ('status' in ended) return ended;
    const endProblem = judgeEnd(spec, ended);
    if (endProblem !== undefined) return endProblem;
    const how = describeEnd(spec, ended);
    if (spec.reconnectStatus === undefined) return pass(how);
    const again = await ctx.open(spec.stream, token);
    again.close();
    if (again.status !== spec.reconnectStatus) return fail(`${how}; but a reconnect got ${describeResponse(again)}, contract: ${spec.reconnectStatus}`);
    return pass(`${how}; a reconnect got ${again.status}`);
  },
};

/** What happened: the probe that should have ended, and when the wait for its end started. */
interface Ended {
  readonly probe: Probe;
  readonly triggeredAtMs: number;
}

/** Opens the stream and makes (or waits for) the end the trigger stands for. */
async function triggerEnd(spec: GracefulEndCheck, ctx: CheckContext, token: TokenPlacement): Promise<Ended | CheckOutcome> {
  const probe = await ctx.open(spec.stream, token);
  if (!probe.isStream) return notOpened(probe);
  const { trigger } = spec;
  let triggeredAtMs = probe.openedAtMs;
  if (trigger.kind === 'newer-stream') {
    const newer = await ctx.open(spec.stream, token);
    if (!newer.isStream) return notOpened(newer, 'the newer stream');
    triggeredAtMs = newer.openedAtMs;
  } else if (trigger.kind === 'request') {
    triggeredAtMs = performance.now();
    // As the stream's own user: a backend logs out per user, and a stranger's logout ends nothing.
    await ctx.produce({ method: trigger.method, url: trigger.url, as: spec.as }, 0, undefined, token);
  }
  const waitMs = (trigger.kind === 'inactivity' ? trigger.afterMs : 0) + spec.withinMs;
  await probe.waitFor(() => probe.ended() !== undefined, triggeredAtMs + waitMs - performance.now());
  const end = probe.ended();
  if (end === undefined || end.kind === 'closed') {
    const contract = trigger.kind === 'inactivity' ? `the server ends it after ${seconds(trigger.afterMs)} of inactivity` : `the server ends it within ${seconds(spec.withinMs)}`;
    return fail(`the stream was still open ${seconds(performance.now() - triggeredAtMs)} after ${describeTrigger(trigger)}; contract: ${contract}`);
  }
  return { probe, triggeredAtMs };
}

/** A failing outcome when the end came too early, broke off, or lacked the contract's last event. */
function judgeEnd(spec: GracefulEndCheck, { probe, triggeredAtMs }: Ended): CheckOutcome | undefined {
  const end = probe.ended();
  if (end === undefined) return fail('the stream did not end');
  const afterMs = end.atMs - triggeredAtMs;
  if (spec.trigger.kind === 'inactivity' && afterMs < spec.trigger.afterMs - spec.withinMs) return fail(`the stream ended after ${seconds(afterMs)}, before the ${seconds(spec.trigger.afterMs)} of inactivity the contract allows`);
  if (spec.end === 'clean' && end.kind === 'broken') return fail(`the stream broke off (a reset, no terminator) after ${describeTrigger(spec.trigger)}, contract: a clean end`);
  if (spec.finalEvent === undefined) return undefined;
  const last = probe.events[probe.events.length - 1];
  if (last === undefined) return fail(`the stream ended with no event, contract: ${spec.finalEvent.type} first`);
  if (last.type !== spec.finalEvent.type) return fail(`the last event before the end was ${quoted(last.type)}, contract: ${spec.finalEvent.type}`);
  const data = parseJsonObject(last.data);
  const wrong = Object.entries(spec.finalEvent.data ?? {}).filter(([key, value]) => !isDeepStrictEqual(data?.[key], value));
  if (wrong.length > 0) return fail(`the last event was ${last.type} ${quoted(last.data)}, contract: ${JSON.stringify(spec.finalEvent.data)}`);
  return undefined;
}

function describeEnd(spec: GracefulEndCheck, { probe, triggeredAtMs }: Ended): string {
  const end = probe.ended();
  const last = probe.events[probe.events.length - 1];
  const before = spec.finalEvent !== undefined && last !== undefined ? `${last.type} ${quoted(last.data)}, then ` : '';
  const afterMs = (end?.atMs ?? triggeredAtMs) - triggeredAtMs;
  const contract = spec.trigger.kind === 'inactivity' ? ` (contract: after ${seconds(spec.trigger.afterMs)} of inactivity)` : '';
  return `${before}a ${end?.kind === 'clean' ? 'clean end' : 'broken end'} ${seconds(afterMs)} after ${describeTrigger(spec.trigger)}${contract}`;
}

function describeTrigger(trigger: EndTrigger): string {
  switch (trigger.kind) {
    case 'inactivity':
      return `opening, with no event since`;
    case 'identity':
      return `opening as ${trigger.as}`;
    case 'newer-stream':
      return 'a newer stream of the same user opened';
    case 'request':
      return `${trigger.method} ${trigger.url}`;
  }
}
