/**
 * `ssekit listen <url...>`: tail one or several SSE streams. Flags → ListenOptions → runListen
 * → a sink (pretty, NDJSON or raw) over stdout with backpressure. Exit code from how it ended:
 * with several streams, the worst of the failed ones. SIGHUP restarts every stream.
 */
import type { Command } from 'commander';
import type { RunCommand } from '../context.js';
import { addAuthFlags, authFlagsOf } from '../flags/auth.js';
import { addHttpFlags, collect } from '../flags/http.js';
import type { ListenFlags } from './listen-action.js';

/** Registers `listen`. */
export function registerListenCommand(program: Command, run: RunCommand): void {
  const command = program
    .command('listen')
    .description('tail one or several SSE streams: spec-exact parsing, auth, reconnects with Last-Event-ID')
    .argument('<url...>', 'stream URL(s); several are tailed at once, tagged by stream');
  addHttpFlags(command);
  addAuthFlags(command);
  command
    .option('--method <method>', 'request method, e.g. POST or REPORT (default GET, or POST with --data)')
    .option('-d, --data <text|@file>', 'request body, resent on every reconnect (LLM-style streams: POST a prompt, read data: chunks)')
    .option('--content-type <type>', 'Content-Type of --data (default application/json for a JSON body, else text/plain)')
    .option('--last-event-id <id>', 'Last-Event-ID for the first request')
    .option('--max-event-size <size>', 'largest line or event accepted, after decompression; over it the stream ends (exit 5)', '1MiB')
    .option('--no-reconnect', 'stop when the stream ends or fails instead of reconnecting')
    .option('--max-retries <n>', 'consecutive failed attempts before giving up (reset after a successful open)', '5')
    .option('--retry-initial <duration>', 'first backoff delay when the server gives no retry hint', '500ms')
    .option('--retry-max <duration>', 'backoff cap', '30s')
    .option('--heartbeat-timeout <duration>', 'reconnect when no byte at all arrives for this long')
    .option('--json', 'one JSON object per event per line (time, stream, event, type, id, data, json); with --heartbeats also comments')
    .option('--raw', "the stream's bytes as received (escaped for the terminal), like curl -N, with ssekit's reconnects")
    .option('--compact', 'one line per event (no pretty-printed JSON)')
    .option('--heartbeats', 'show comments and ping/heartbeat events (dimmed; in --json, comments as {"comment": ...} lines)')
    .option('--event <glob>', 'only events whose type matches (raw or normalized; repeatable), e.g. order.*', collect)
    .option('--grep <regex>', 'only events whose data matches')
    .option('--max-events <n>', 'stop after this many events (counting only events that pass --event/--grep)')
    .option('--max-time <duration>', 'stop after this long')
    .option('--until <type>', 'stop after the first event of this type that passes --event/--grep')
    .option('--fail-fast', 'with several streams, stop them all when one fails (default: a failed stream ends only itself)')
    .addHelpText(
      'after',
      `
Several streams: a stream that is refused or fails ends only itself; the others go on, each
failure is printed once as it happens, and the exit code is the worst one (--fail-fast stops all).
Restart: kill -HUP <pid> makes a running listen drop every stream and reconnect at once, with
its Last-Event-ID. Proxies: HTTPS_PROXY, HTTP_PROXY and NO_PROXY are honoured (never for loopback).

Examples:
  $ ssekit listen http://127.0.0.1:8787/api/admin/events --jwt-secret ssekit-dev-secret-change-me --role admin --sub 1
  $ SSEKIT_TOKEN=... ssekit listen https://api.example.com/api/v1/streams/deals https://api.example.com/api/v1/streams/tasks
  $ ssekit listen http://127.0.0.1:8787/admin/orders/sse --json --event 'order_*' | jq .json
  $ ssekit listen https://llm.example.com/v1/chat --data '{"prompt":"hi","stream":true}' --raw`,
    )
    .action((urls: string[], flags: ListenFlags, self: Command) => run(async (ctx) => (await import('./listen-action.js')).listen(urls, authFlagsOf(flags, self), ctx)));
}
