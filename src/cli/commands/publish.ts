/**
 * `ssekit publish <producer-url>`: trigger events at the producer and measure how long each
 * takes to reach the watching streams, against a target (seed 000: < 500 ms). Exit 99 when the
 * gate or the lost count fails, so CI can gate on it.
 */
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.js';
import { parseDuration, parsePositiveByteSize } from '../../core/duration.js';
import { redactUrl } from '../../core/redact.js';
import { createProducer, producerKindOf } from '../../producers/producer.js';
import { compileTemplate } from '../../producers/template.js';
import { GATE_STATS, type PublishedEvent } from '../../metrics/publish-result.js';
import type { Correlation } from '../../publish/correlation.js';
import { runPublish, type PublishOptions } from '../../publish/run-publish.js';
import { toJson } from '../../reporters/json.js';
import { createPublishTextReporter } from '../../reporters/publish-text.js';
import { withStreamAgent } from '../../transport/agent.js';
import type { CliContext, RunCommand } from '../context.js';
import { addAuthFlags, authFlagsOf, resolveToken, type AuthFlags } from '../flags/auth.js';
import { VERSION } from '../version.js';
import { checkOutputPaths, writeOutputFiles } from '../flags/output.js';
import { addHttpFlags, collect, parseCount, parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';

interface PublishFlags extends AuthFlags, HttpFlags {
  readonly data?: string;
  readonly method: string;
  readonly watch?: readonly string[];
  readonly listeners: string;
  readonly count: string;
  readonly rate: string;
  readonly timeout: string;
  readonly target: string;
  readonly gate: (typeof GATE_STATS)[number];
  readonly idFrom?: string;
  readonly idPath?: string;
  readonly json?: boolean;
  readonly maxEventSize: string;
  readonly out?: string;
}

/** Default bodies per producer kind: shaped like the seeds, with the correlation marker. */
export const DEFAULT_BODIES = {
  // Seed 000: POST /orders; the broadcast carries pickup_address, so the marker travels in it.
  http: '{"pickup_address":"ssekit {{nonce}}","delivery_address":"Customer Street 45","boxes_count":1}',
  // Seed 000: what orders.py PUBLISHes to admin:events.
  redis: '{"event":"order.created","data":{"order_id":{{seq}},"pickup_address":"ssekit {{nonce}}","delivery_address":"Customer Street 45","boxes_count":1,"created_at":"{{now}}"}}',
  // Seed 004: a crm.domain deal.created payload (the routing key is the event type).
  amqp: '{"deal_id":"{{uuid}}","client_id":"{{uuid}}","title":"ssekit {{nonce}}","status":"draft","created_at":"{{now}}"}',
} as const;


/** Registers `publish`. */
export function registerPublishCommand(program: Command, run: RunCommand): void {
  const command = program
    .command('publish')
    .description('publish events at the producer (HTTP POST, Redis PUBLISH, AMQP) and measure their delivery to SSE streams')
    .argument('<producer-url>', 'http(s)://host/path (POST), redis://host:6379/<channel>, amqp://user:pass@host:5672/<exchange>?routingKey=<key>');
  addHttpFlags(command);
  addAuthFlags(command);
  command
    .option('-d, --data <json|@file>', 'event body; placeholders {{seq}} {{uuid}} {{now}} {{ts}} {{nonce}} (default: a seed-shaped body with {{nonce}})')
    .option('--method <method>', 'HTTP producer method', 'POST')
    .option('-w, --watch <stream-url>', 'SSE stream where the event should arrive (repeatable)', collect)
    .option('--listeners <k>', 'connections per watched stream (fan-out)', '1')
    .option('-c, --count <n>', 'events to publish', '1')
    .option('--rate <per-second>', 'publish rate (open model: sends on schedule even when deliveries lag)', '10')
    .option('--timeout <duration>', 'an event not seen this long after its scheduled send is lost', '5s')
    .option('--target <duration>', 'latency target', '500ms')
    .addOption(new Option('--gate <stat>', 'statistic checked against --target').choices(GATE_STATS).default('p99'))
    .option('--id-from <json-path>', "correlate by the id in the producer's response at this path (e.g. order_id)")
    .option('--id-path <json-path>', "…found in the delivered event's data at this path (e.g. data.order_id)")
    .option('--json', 'print the result as JSON (no per-event lines)')
    .option('-o, --out <file>', "write the result JSON here (written even when the gate fails; 'ssekit stats report|compare' read it)")
    .option('--max-event-size <size>', 'largest event accepted on a watched stream', '1MiB')
    .addHelpText(
      'after',
      `
Correlation: put {{nonce}} in the body (the default bodies do) and ssekit finds it in the
delivered event's data; or use --id-from/--id-path when the producer returns an id.

Examples:
  $ ssekit publish http://127.0.0.1:8787/orders --role admin --sub 1 --jwt-secret ssekit-dev-secret-change-me \\
      --watch http://127.0.0.1:8787/api/admin/events --count 20 --rate 5
  $ ssekit publish redis://127.0.0.1:6379/admin:events --watch http://127.0.0.1:8787/api/admin/events --token "$T"
  $ ssekit publish http://127.0.0.1:8787/orders --id-from order_id --id-path data.order_id --watch ... --gate max --target 1s`,
    )
    .action((producerUrl: string, flags: PublishFlags, self: Command) => run((ctx) => publish(producerUrl, authFlagsOf(flags, self), ctx)));
}

async function publish(producerUrl: string, flags: PublishFlags, ctx: CliContext): Promise<number> {
  const http = await resolveHttpFlags(flags, ctx.env);
  const token = await resolveToken(flags);
  if (flags.watch === undefined || flags.watch.length === 0) throw new UsageError('publish needs at least one --watch <stream-url> to measure delivery');
  const watch = flags.watch.map((text) => ({ url: parseHttpUrl(text, '--watch'), display: redactUrl(text), token }));
  const producerKind = producerKindOf(producerUrl);
  const bodyText = flags.data === undefined ? DEFAULT_BODIES[producerKind] : await readBody(flags.data);
  const template = compileTemplate(bodyText);
  // Bodies go out as JSON (application/json, or a JSON message): catch a typo before publishing anything.
  try {
    JSON.parse(template.render(0, 'ssk_check_0_'));
  } catch (error) {
    throw new UsageError(`--data is not valid JSON once its placeholders are filled: ${error instanceof Error ? error.message : String(error)}`, { hint: `e.g. --data '{"pickup_address":"{{nonce}}"}'` });
  }
  if ((flags.idFrom === undefined) !== (flags.idPath === undefined)) throw new UsageError('--id-from and --id-path go together');
  const correlation: Correlation = flags.idFrom !== undefined && flags.idPath !== undefined ? { kind: 'id', responsePath: flags.idFrom, eventPath: flags.idPath } : { kind: 'marker' };
  if (correlation.kind === 'marker' && !template.hasNonce) {
    throw new UsageError('cannot match deliveries to events: the body has no {{nonce}}', { hint: 'add {{nonce}} to a string field the backend relays, or use --id-from/--id-path' });
  }
  if (correlation.kind === 'id' && producerKind !== 'http') throw new UsageError('--id-from needs an HTTP producer (brokers return no id)');
  const rate = Number(flags.rate);
  if (!Number.isFinite(rate) || rate <= 0) throw new UsageError(`--rate: '${flags.rate}' must be a positive number`);
  const timeoutMs = parseDuration(flags.timeout, '--timeout');
  if (timeoutMs <= 0) throw new UsageError('--timeout must be longer than 0');
  const count = parseCount(flags.count, '--count');
  const listenersPerStream = parseCount(flags.listeners, '--listeners');
  const targetMs = parseDuration(flags.target, '--target');
  const maxEventBytes = parsePositiveByteSize(flags.maxEventSize, '--max-event-size');
  await checkOutputPaths([flags.out]);
  // Everything is validated: only now open resources (the agent is closed on every path).
  return withStreamAgent(http, async (dispatcher) => {
    const options: PublishOptions = {
      producer: createProducer(producerUrl, { method: flags.method, headers: http.headers, token, dispatcher, timeoutMs: http.connectTimeoutMs }),
      template,
      correlation,
      watch,
      listenersPerStream,
      headers: http.headers,
      count,
      ratePerSecond: rate,
      timeoutMs,
      targetMs,
      gate: flags.gate,
      maxEventBytes,
      openTimeoutMs: Math.max(http.connectTimeoutMs, 5_000),
      dispatcher,
      version: VERSION,
    };
    const reporter = createPublishTextReporter({ useColor: ctx.useColor, targetMs: options.targetMs });
    const isJson = flags.json === true;
    const result = await runPublish(options, {
      signal: ctx.signal,
      ...(isJson ? {} : { onEvent: (event: PublishedEvent) => void ctx.stdout.write(`${reporter.eventLine(event)}\n`) }),
      onStatus: (text) => void ctx.stderr.write(`${text}\n`),
    });
    const writeFailures = await writeOutputFiles([[flags.out, () => `${toJson(result)}\n`]]);
    if (isJson) ctx.stdout.write(`${toJson(result)}\n`);
    else ctx.stdout.write(reporter.summary(result));
    if (writeFailures.length > 0) throw new UsageError(writeFailures.join('; '));
    if (result.endReason === 'interrupted') return ExitCode.interrupted;
    return result.endReason === 'passed' ? ExitCode.ok : ExitCode.gateFailed;
  });
}

async function readBody(data: string): Promise<string> {
  if (!data.startsWith('@')) return data;
  try {
    return await readFile(data.slice(1), 'utf8');
  } catch (error) {
    throw new UsageError(`--data: cannot read ${data.slice(1)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}

