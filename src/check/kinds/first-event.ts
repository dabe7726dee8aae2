/**
 * Check `first-event`: the first event a stream dispatches, its type and its shape (CONTRACTS
 * §3 `connected` "on every (re)connect"; §4 `initial` "full order list, sent first"), and
 * optionally the same again after a reconnect.
 *
 *     first-event: {type: connected, schema: {...}, within: 2s, onReconnect: true}
 */
import { tryParseJson } from '../../stream/normalize.js';
import type { TokenPlacement } from '../../transport/auth.js';
import type { CheckContext, CheckKindRunner } from '../context.js';
import { fail, notOpened, pass, quoted, seconds } from '../evidence.js';
import type { FirstEventCheck } from '../plan.js';
import { BASE_KEYS, readSchema, type CheckReader } from '../read-common.js';

/** Reads `checks.<name>` of kind first-event. */
export const readFirstEventCheck: CheckReader<FirstEventCheck> = (f, base) => {
  f.allowOnly([...BASE_KEYS, 'type', 'schema', 'within', 'onReconnect']);
  const onReconnect = f.raw('onReconnect');
  if (onReconnect !== undefined && typeof onReconnect !== 'boolean') f.problem('must be true or false', 'onReconnect');
  return { ...base, kind: 'first-event', type: f.requiredString('type'), schema: readSchema(f, 'schema'), withinMs: f.duration('within', 2_000), isCheckedOnReconnect: onReconnect === true };
};

/** Runs a first-event check. */
export const firstEventRunner: CheckKindRunner<FirstEventCheck> = {
  plannedMs: (spec) => spec.withinMs * (spec.isCheckedOnReconnect ? 2 : 1),
  async run(spec, ctx) {
    const token = await ctx.token({ as: spec.as });
    const first = await firstEventOf(spec, ctx, token);
    if (typeof first !== 'string') return first;
    if (!spec.isCheckedOnReconnect) return pass(first);
    // The same token again, as EventSource reconnects (§3: `connected` on every (re)connect).
    const again = await firstEventOf(spec, ctx, token);
    if (typeof again !== 'string') return { ...again, evidence: `on reconnect: ${again.evidence} (the first connect was fine: ${first})` };
    return pass(`${first}; again on reconnect`);
  },
};

/** The evidence for one connect, or a failing outcome. */
async function firstEventOf(spec: FirstEventCheck, ctx: CheckContext, token: TokenPlacement): Promise<string | ReturnType<typeof fail>> {
  const probe = await ctx.open(spec.stream, token);
  if (!probe.isStream) return notOpened(probe);
  await probe.waitFor(() => probe.events.length > 0 || probe.ended() !== undefined, spec.withinMs);
  const event = probe.events[0];
  probe.close();
  if (event === undefined) return fail(`no event within ${seconds(spec.withinMs)} (contract: ${spec.type} first)`);
  const afterMs = event.atMs - probe.openedAtMs;
  if (event.type !== spec.type) return fail(`the first event was ${quoted(event.type)} after ${seconds(afterMs)}, contract: ${spec.type}`);
  if (spec.schema === undefined) return `${spec.type} first, after ${seconds(afterMs)}`;
  const parsed = tryParseJson(event.data);
  const problems = parsed.ok ? spec.schema.problemsOf(parsed.value) : [`data is not JSON: ${quoted(event.data)}`];
  if (problems.length > 0) return fail(`${spec.type} first, but its data does not match the schema: ${problems[0] ?? ''}`, problems.slice(1));
  return `${spec.type} first, after ${seconds(afterMs)}, data matches its schema`;
}
