/**
 * `ssekit publish <producer-url>`: trigger events at the producer and measure how long each
 * takes to reach the watching streams, against a target (seed 000: < 500 ms). Exit 99 when the
 * gate or the lost count fails, so CI can gate on it. The flags; `publish-action.ts` the rest.
 */
import { Option, type Command } from 'commander';
import { GATE_STATS } from '../../metrics/publish-result.js';
import type { RunCommand } from '../context.js';
import { addAuthFlags, authFlagsOf } from '../flags/auth.js';
import { addHttpFlags, collect } from '../flags/http.js';
import type { PublishFlags } from './publish-action.js';

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
    .addOption(new Option('--max-self-lag <duration>', "ssekit's own event-loop lag (p99) over which the run fails, its latency being its own (default 50ms)").env('SSEKIT_MAX_SELF_LAG'))
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
    .action((producerUrl: string, flags: PublishFlags, self: Command) => run(async (ctx) => (await import('./publish-action.js')).publish(producerUrl, authFlagsOf(flags, self), ctx)));
}
