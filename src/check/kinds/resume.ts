/**
 * Check `resume`: every event carries an `id:`, and a reconnect with `Last-Event-ID` gets what
 * was missed (CONTRACTS §5: "Every channel carries `id:` and honours `Last-Event-ID` to resume
 * after a drop"). One event is delivered live and its id noted; the stream is closed; `missed`
 * more are produced; a new stream opened with that id must replay them, in order, without the
 * one already seen.
 *
 *     resume: {produce: {request: POST /api/v1/streams/deals/events, body: ...}, missed: 2}
 */
import type { CheckContext, CheckKindRunner } from '../context.js';
import { fail, notOpened, pass, quoted, seconds } from '../evidence.js';
import type { ResumeCheck } from '../plan.js';
import type { Probe, ProbeEvent } from '../probe.js';
import { BASE_KEYS, readNonceStep, type CheckReader } from '../read-common.js';

/** Reads `checks.<name>` of kind resume. */
export const readResumeCheck: CheckReader<ResumeCheck> = (f, base, env) => {
  f.allowOnly([...BASE_KEYS, 'produce', 'missed', 'within']);
  const produce = readNonceStep(f, base, env, 'the replayed events are recognised by it');
  return { ...base, kind: 'resume', produce, missed: f.integer('missed', 2, 1), withinMs: f.duration('within', 3_000) };
};

/** Runs a resume check. */
export const resumeRunner: CheckKindRunner<ResumeCheck> = {
  plannedMs: (spec) => spec.withinMs * 2,
  async run(spec, ctx) {
    const token = await ctx.token({ as: spec.as });
    const first = await ctx.open(spec.stream, token);
    if (!first.isStream) return notOpened(first);
    const live = await deliveredLive(spec, ctx, first);
    if (typeof live === 'string') return fail(live);
    first.close();
    // Let the server see the drop before the missed events are produced.
    await ctx.sleep(100);
    const markers: string[] = [];
    for (let seq = 1; seq <= spec.missed; seq += 1) markers.push((await ctx.produce(spec.produce, seq)).marker ?? '');
    const second = await ctx.open(spec.stream, token, { lastEventId: live.id });
    if (!second.isStream) return notOpened(second, `the reconnect with Last-Event-ID ${quoted(live.id)}`);
    const replayedOf = (): (ProbeEvent | undefined)[] => markers.map((m) => second.events.find((e) => e.data.includes(m)));
    await second.waitFor(() => replayedOf().every((e) => e !== undefined), spec.withinMs);
    return judgeReplay(spec, live, replayedOf(), second);
  },
};

/** Produces one event on the open stream; its id, or why that failed. */
async function deliveredLive(spec: ResumeCheck, ctx: CheckContext, probe: Probe): Promise<ProbeEvent | string> {
  const { marker = '' } = await ctx.produce(spec.produce, 0);
  await probe.waitFor(() => probe.events.some((e) => e.data.includes(marker)), spec.withinMs);
  const event = probe.events.find((e) => e.data.includes(marker));
  if (event === undefined) return `the produced event did not arrive within ${seconds(spec.withinMs)}`;
  if (event.id === '') return `events carry no id: field (${quoted(event.type)} arrived without one), so Last-Event-ID cannot resume`;
  return event;
}

function judgeReplay(spec: ResumeCheck, live: ProbeEvent, replayed: readonly (ProbeEvent | undefined)[], second: Probe): ReturnType<typeof pass> {
  const got = replayed.filter((e): e is ProbeEvent => e !== undefined);
  const warning = second.events.find((e) => e.type === 'warning' || e.type === 'error');
  const said = warning === undefined ? '' : `; the server sent ${warning.type} ${quoted(warning.data)}`;
  if (got.length < spec.missed) return fail(`reconnected with Last-Event-ID ${quoted(live.id)}: ${got.length} of ${spec.missed} missed events replayed within ${seconds(spec.withinMs)}${said}`);
  const isInOrder = got.every((e, i) => i === 0 || second.events.indexOf(e) > second.events.indexOf(got[i - 1] as ProbeEvent));
  if (!isInOrder) return fail(`the missed events were replayed out of order (ids ${got.map((e) => e.id).join(', ')})`);
  if (second.events.some((e) => e.id === live.id && e.data === live.data)) return fail(`the event with id ${quoted(live.id)}, already seen, was sent again`);
  if (got.some((e) => e.id === '')) return fail('a replayed event carries no id: field');
  return pass(`every event has an id; reconnected with Last-Event-ID ${quoted(live.id)}: ${spec.missed} missed events replayed in order (ids ${got.map((e) => quoted(e.id)).join(', ')})`);
}
