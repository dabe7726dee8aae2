/**
 * Check `events`: event payloads per type against JSON Schema. The steps make the backend emit
 * events (CONTRACTS §1 `POST /orders` → `order.created`; §4's four producers); each step's event
 * is found by its marker (`{{nonce}}` in the body), else as the next event of the type it
 * `expect`s. Then every event the stream carried is checked against the schema of its type
 * (the normalized type: `event:` or the JSON's `event`/`type`, §2).
 *
 *     events:
 *       produce: {request: POST /orders, body: {pickup_address: "ssekit {{nonce}}", ...}, expect: order.created}
 *       schemas: {order.created: {type: object, required: [event, data], ...}}
 */
import { tryParseJson } from '../../stream/normalize.js';
import type { CheckContext, CheckKindRunner } from '../context.js';
import { fail, notOpened, pass, quoted, seconds } from '../evidence.js';
import type { EventsCheck, ProduceStep } from '../plan.js';
import type { Probe, ProbeEvent } from '../probe.js';
import { BASE_KEYS, readProduceSteps, type CheckReader } from '../read-common.js';
import { compileSchema, type CompiledSchema } from '../schema.js';
import type { ProduceOutcome } from '../produce.js';

/** Reads `checks.<name>` of kind events. */
export const readEventsCheck: CheckReader<EventsCheck> = (f, base, env) => {
  f.allowOnly([...BASE_KEYS, 'produce', 'schemas', 'within', 'unknownTypes']);
  const schemas: Record<string, CompiledSchema> = {};
  const rawSchemas = f.mapping('schemas') ?? {};
  for (const [type, raw] of Object.entries(rawSchemas)) {
    const compiled = compileSchema(raw);
    if (typeof compiled === 'string') f.problem(compiled, `schemas.${type}`);
    else schemas[type] = compiled;
  }
  if (Object.keys(rawSchemas).length === 0) f.problem('names no event type to check', 'schemas');
  const produce = readProduceSteps(f, 'produce', base, env);
  for (const [i, step] of produce.entries()) if (step.body?.includes('{{nonce}}') !== true && step.expect === undefined) f.problem("needs {{nonce}} in its body or 'expect: <type>' to find its event", `produce[${i}]`);
  return { ...base, kind: 'events', produce, schemas, withinMs: f.duration('within', 5_000), unknownTypes: f.oneOf('unknownTypes', ['ignore', 'fail'], 'ignore') };
};

/** Runs an events check. */
export const eventsRunner: CheckKindRunner<EventsCheck> = {
  plannedMs: (spec) => spec.withinMs,
  async run(spec, ctx) {
    const probe = await ctx.open(spec.stream, await ctx.token({ as: spec.as }));
    if (!probe.isStream) return notOpened(probe);
    const calls = await produceAll(spec.produce, ctx);
    await probe.waitFor(() => matchCalls(calls, probe).every((m) => m.event !== undefined), spec.withinMs);
    const matched = matchCalls(calls, probe);
    probe.close();
    const problems = [...deliveryProblems(matched, spec.withinMs), ...schemaProblems(spec, probe)];
    const summary = summarize(spec, probe);
    return problems.length === 0 ? pass(summary) : fail(problems[0] as string, [...problems.slice(1), summary]);
  },
};

/** A producer call and what it should cause. */
interface Call {
  readonly step: ProduceStep;
  readonly outcome: ProduceOutcome;
}

async function produceAll(steps: readonly ProduceStep[], ctx: CheckContext): Promise<Call[]> {
  const calls: Call[] = [];
  let previous: string | undefined;
  for (const [seq, step] of steps.entries()) {
    const outcome = await ctx.produce(step, seq, previous);
    calls.push({ step, outcome });
    previous = outcome.responseText;
  }
  return calls;
}

/** The event each call caused: the one carrying its marker, else the first event of its type after the call that no earlier call took. */
function matchCalls(calls: readonly Call[], probe: Probe): { call: Call; event: ProbeEvent | undefined }[] {
  const taken = new Set<ProbeEvent>();
  return calls.map((call) => {
    const { marker, calledAtMs } = call.outcome;
    const event = marker !== undefined ? probe.events.find((e) => e.data.includes(marker)) : probe.events.find((e) => !taken.has(e) && e.atMs >= calledAtMs && e.type === call.step.expect);
    if (event !== undefined) taken.add(event);
    return { call, event };
  });
}

function deliveryProblems(matched: readonly { call: Call; event: ProbeEvent | undefined }[], withinMs: number): string[] {
  return matched.flatMap(({ call, event }) => {
    const what = `${call.step.method} ${call.step.url}`;
    if (event === undefined) return [`${what}: no ${call.step.expect ?? 'matching'} event within ${seconds(withinMs)}`];
    if (call.step.expect !== undefined && event.type !== call.step.expect) return [`${what}: arrived as ${quoted(event.type)}, contract: ${call.step.expect}`];
    return [];
  });
}

function schemaProblems(spec: EventsCheck, probe: Probe): string[] {
  const problems: string[] = [];
  for (const [index, event] of probe.events.entries()) {
    const schema = spec.schemas[event.type];
    if (schema === undefined) {
      if (spec.unknownTypes === 'fail') problems.push(`event #${index + 1} has type ${quoted(event.type)}, which the contract does not list`);
      continue;
    }
    const parsed = tryParseJson(event.data);
    const found = parsed.ok ? schema.problemsOf(parsed.value, 3) : ['data is not JSON'];
    for (const problem of found) problems.push(`${event.type} (event #${index + 1}): ${problem}`);
  }
  return problems;
}

/** `3 events match their schemas (order.created ×3); not in the contract: ping ×2`. */
function summarize(spec: EventsCheck, probe: Probe): string {
  const counts = (events: readonly ProbeEvent[]): string => {
    const byType = new Map<string, number>();
    for (const e of events) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
    return [...byType].map(([type, n]) => `${quoted(type).slice(1, -1)}${n > 1 ? ` ×${n}` : ''}`).join(', ');
  };
  const checked = probe.events.filter((e) => spec.schemas[e.type] !== undefined);
  const others = probe.events.filter((e) => spec.schemas[e.type] === undefined);
  return `${checked.length} event${checked.length === 1 ? '' : 's'} checked against their schemas (${counts(checked) || 'none'})${others.length > 0 ? `; without a schema: ${counts(others)}` : ''}`;
}
