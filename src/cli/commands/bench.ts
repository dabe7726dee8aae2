/**
 * `ssekit bench [scenario.yaml | stream-url]`: a fleet of reconnecting clients against a
 * backend, delivery latency, loss and server-side connection leaks, judged by thresholds.
 * With no argument it runs the admin-orders scenario against an embedded `ssekit serve`.
 * This file holds the flags; `bench-action.ts` (loaded when bench runs) the rest.
 */
import { Option, type Command } from 'commander';
import { CHURN_MODES } from '../../bench/churn-modes.js';
import type { RunCommand } from '../context.js';
import { addAuthFlags, authFlagsOf } from '../flags/auth.js';
import { addHttpFlags, collect } from '../flags/http.js';
import type { BenchFlags } from './bench-action.js';

/** Registers `bench`. */
export function registerBenchCommand(program: Command, run: RunCommand): void {
  const command = program
    .command('bench')
    .description('load-test an SSE backend: reconnecting clients, delivery latency, loss and server-side connection leaks')
    .argument('[scenario-or-url]', 'a scenario file (.yaml/.json), a stream URL, or nothing for the embedded default')
    .option('--target <base-url>', "point the scenario at another server (its paths are kept)")
    .option('-c, --clients <n>', "concurrent clients (default: the scenario's, else 10)")
    .option('--ramp <duration>', "spread client starts over this long (default: the scenario's, else 0s)")
    .option('-d, --duration <duration>', "steady-state duration after the ramp (default: the scenario's, else 60s)")
    .option('--churn <fraction>', 'fraction of clients that drop and reconnect per second, e.g. 0.05 (default 0)')
    .addOption(new Option('--churn-mode <mode>', 'how churning clients leave (default graceful)').choices(CHURN_MODES))
    .option('--method <method>', 'with a stream URL: ask for the stream with this method (default GET; POST with --data)')
    .option('--data <text|@file>', 'with a stream URL: the request body, sent again on every reconnect ({{vu}} is the client index); an LLM-style POST stream')
    .option('--content-type <type>', 'with --data: its Content-Type (default application/json for a JSON body)')
    .option('--publish <producer-url>', 'publish load: http(s)://…, redis://…/<channel>, amqp://…/<exchange>?routingKey=…')
    .option('--rate <per-second>', 'events per second, open model (default 1)')
    .option('--body <template>', "event body template with {{nonce}} (default: publish's seed-shaped body for the producer)")
    .option('--ignore-event <type>', "event type never matched to published events, repeatable (e.g. initial: a snapshot resent on every reconnect)", collect)
    .option('--server-stats <url>', "where the server reports its open streams (Prometheus, JSON or 'name: value')")
    .option('--server-metric <selector>', "which figure: metric{labels}, JSON path, or key (e.g. 'sse_connections_active{role=\"admin\"}')")
    .addOption(new Option('--server-stats-token <token>', "bearer token for the stats reads (default: the streams' credentials when on their origin)").env('SSEKIT_SERVER_STATS_TOKEN'))
    .option('--server-stats-header <header>', "extra header for the stats reads, 'Name: value' (repeatable)", collect)
    .option('--threshold <expr>', "pass/fail rule, repeatable: 'p99<500ms', 'p(95)<1s', 'loss==0', 'leaks==0', 'errors<1%', 'connect.p95<1s', 'open>=95%'", collect)
    .addOption(new Option('--max-self-lag <duration>', "ssekit's own event-loop lag (p99) over which the run fails, its latency being its own (default 50ms; raise it on a busy shared runner)").env('SSEKIT_MAX_SELF_LAG'))
    .option('--heartbeat-timeout <duration>', 'a stream with no byte for this long is stalled and reconnects (default off)')
    .option('--leak-grace <duration>', 'after closing every stream, wait this long for the server count to settle (default 5s)')
    .option('--local-address <ip>', "bind the fleet's sockets to this source address (a machine with several; bench --workers picks one per worker on loopback)")
    .option('--connections <n>', 'carry the streams over this many HTTP/2 connections, as a browser does for one origin (https with ALPN h2, or --http2-prior-knowledge)')
    .option('--workers <n|auto>', 'run N shard processes on this machine, each with its own file limit and loopback source address, and merge them (auto: one per core)')
    .addOption(new Option('--worker <index>', 'internal: run as a worker of bench --workers').hideHelp())
    .option('--shard <i/N>', 'run the i-th of N deterministic slices of the clients and the publish schedule (needs --start-at)')
    .option('--run-id <id>', 'correlation id shared by the shards of one run (default: derived from the scenario, target excluded)')
    .option('--start-at <time>', 'shards: wall-clock start of the shared publish schedule, the same for every shard (ISO time or ms since epoch)')
    .option('-o, --out <file>', 'write the result JSON (written even when the run fails or is interrupted)')
    .option('--junit <file>', 'write thresholds as JUnit XML')
    .option('--summary-md <file>', 'append a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)')
    .option('--html <file>', 'write the report as one self-contained HTML page with its charts (written even when the run fails or is interrupted)')
    .option('--json', 'print the result JSON on stdout instead of the report')
    .option('--result-line', 'after the report, print the result as one JSON line, the last on stdout (for kubectl logs and stats merge)')
    .addOption(new Option('--emit <kind>', 'write a manifest that runs the plan elsewhere instead of running it (k8s: an Indexed Job of --shards pods)').choices(['k8s']))
    .option('--shards <n>', 'with --emit k8s: how many pods, each one shard', '2')
    .option('--image <image>', 'with --emit k8s: the ssekit image (see the Dockerfile)')
    .option('--namespace <ns>', 'with --emit k8s: the namespace', 'default')
    .option('--start-in <duration>', 'with --emit k8s: the shared start, this long after the manifest is made (scheduling and the image pull)', '2m')
  // Auth is per virtual user: --claims, --role and --sub may use {{vu}}, the user's index.
  addHttpFlags(command);
  addAuthFlags(command);
  command
    .addHelpText(
      'after',
      `
Identities: a minted JWT gets one subject per virtual user (vu-0, vu-1, …) unless --sub or the
claims name one; a fixed --sub or a shared --token is one identity for all (the plan says so).
Thresholds: 'open>=95%' (the fleet stayed open) and, with --server-stats, 'undercount==0' are
always judged unless a --threshold names the same figure.

Examples:
  $ ssekit bench                                     # embedded server, admin-orders scenario, ~1 minute
  $ ssekit bench scenarios/admin-orders.yaml --target http://127.0.0.1:8787 --clients 2000 --churn 0.05 -o result.json --html report.html
  $ ssekit bench http://127.0.0.1:8787/api/admin/events --jwt-secret "$S" --role admin \\
      --server-stats http://127.0.0.1:8787/metrics --server-metric 'sse_connections_active{role="admin"}' --threshold leaks==0`,
    )
    .action((argument: string | undefined, flags: BenchFlags, self: Command) =>
      run(async (ctx) => (await import('./bench-action.js')).bench(argument, authFlagsOf(flags, self), ctx, { isConnectTimeoutSet: self.getOptionValueSource('connectTimeout') !== 'default' })),
    );
}
