/**
 * `ssekit serve`: the reference SSE backend's flags. The work is in `serve-action.ts`, imported
 * when serve runs.
 */
import { Option, type Command } from 'commander';
import { FAULT_HELP } from '../../serve/faults.js';
import { PROFILE_NAMES } from '../../serve/profile-names.js';
import type { RunCommand } from '../context.js';
import type { ServeFlags } from './serve-action.js';

const collect = (value: string, previous: readonly string[] | undefined): string[] => [...(previous ?? []), value];

/** Registers `serve` (the export name and signature main.ts relies on). */
export function registerServeCommand(program: Command, run: RunCommand): void {
  program
    .command('serve')
    .description('run the reference SSE backend: the seed systems\' contracts (admin-orders, salon, store, gateway) on one port')
    .addOption(new Option('--host <host>', 'interface to bind').default('127.0.0.1'))
    .addOption(new Option('-p, --port <port>', 'port; 0 picks a free one (printed on the first line)').default('8787').env('SSEKIT_SERVE_PORT'))
    .addOption(new Option('--profile <names>', `profiles to mount, comma-separated or repeated (default: all of ${PROFILE_NAMES.join(', ')})`).argParser(collect))
    .addOption(new Option('--jwt-secret <secret>', 'HS256 secret tokens are verified with (default: the public dev secret)').env('SSEKIT_JWT_SECRET'))
    .addOption(new Option('--jwt-public-key <file>', 'verify RS256/ES256/EdDSA tokens with this PEM public key instead').conflicts('jwtSecret'))
    .addOption(new Option('--allow-no-exp', 'accept JWTs without an exp claim (refused by default: a token must expire)'))
    .addOption(new Option('--heartbeat <duration>', 'keepalive / ping / ": ping" interval').default('30s'))
    .addOption(new Option('--inactivity-timeout <duration>', 'end a stream after this long without an event; 0 disables').default('1h'))
    .addOption(new Option('--max-streams-per-user <n>', 'streams per user; 0 = unlimited (default: admin-orders 1, gateway 5, others unlimited)'))
    .addOption(new Option('--stream-limit-policy <policy>', 'over the limit: reject (409 {"code":"stream_limit"}) or close the oldest stream (default: admin-orders close-oldest, others reject)').choices(['reject', 'close-oldest']))
    .addOption(new Option('--max-buffer <size>', 'unsent bytes per stream before the client is dropped as too slow').default('1MiB'))
    .addOption(new Option('--max-body <size>', 'largest producer request body (413 above)').default('64KiB'))
    .addOption(new Option('--max-connections <n>', 'TCP connections served at once; beyond, 503 server_full with Retry-After (default: no limit)'))
    .addOption(new Option('--header-timeout <duration>', 'a request\'s headers must arrive within this (408 after)').default('10s'))
    .addOption(new Option('--body-timeout <duration>', 'a producer\'s request body must arrive within this once its headers are in (408 after)').default('10s'))
    .addOption(new Option('--retry <duration>', 'send "retry: <ms>" first on every stream (the seeds send none)'))
    .addOption(new Option('--redis <url>', 'fan out through Redis pub/sub (admin-orders uses channel admin:events) so several serve processes share events').env('SSEKIT_REDIS_URL'))
    .addOption(new Option('--amqp <url>', 'gateway: consume its RabbitMQ exchanges (crm.domain, tasks.events, notifications.internal, payments.status) and relay them').env('SSEKIT_AMQP_URL'))
    .option('--source-warning-interval <duration>', 'gateway: how often streams get source_unavailable warnings while RabbitMQ is down (default: 2 × --heartbeat, 60 s)')
    .option('--replay-buffer <n>', 'gateway: events kept per channel for Last-Event-ID replay (0 = off)', '1000')
    .addOption(new Option('--fault <fault>', 'misbehave on purpose (repeatable); see Faults below').argParser(collect))
    .addOption(new Option('--workers <n>', 'worker processes sharing the port (node:cluster); events, limits and /metrics span all of them').default('1'))
    .addOption(new Option('-q, --quiet', 'no JSON connect/disconnect logs on stderr'))
    // For a parent that starts serve as its child (bench's embedded target): when the parent dies,
    // even by SIGKILL, the pipe to serve's stdin closes and serve shuts down as on SIGTERM.
    .addOption(new Option('--exit-on-stdin-end', 'shut down gracefully when stdin ends or closes').hideHelp())
    .addHelpText(
      'after',
      `
Faults (off by default):
${FAULT_HELP.map((line) => `  ${line}`).join('\n')}

Examples:
  $ ssekit serve
  $ ssekit serve --port 0 --profile admin-orders --heartbeat 1s --fault drop=0.1
  $ ssekit serve --port 9001 --redis redis://127.0.0.1:6379 & ssekit serve --port 9002 --redis redis://127.0.0.1:6379
  $ ssekit serve --workers 3 --max-connections 60000`,
    )
    .action((flags: ServeFlags) => run(async (ctx) => (await import('./serve-action.js')).serve(flags, ctx)));
}

