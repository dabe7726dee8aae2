/**
 * `ssekit listen <url...>`: tail one or several SSE streams. Flags → ListenOptions → runListen
 * → a sink (pretty or NDJSON). Exit code from how it ended.
 */
import type { Command } from 'commander';
import { ExitCode, InterruptedError, SsekitError } from '../../core/errors.js';
import { parseDuration, parsePositiveByteSize, parsePositiveDuration } from '../../core/duration.js';
import { redactText, redactUrl } from '../../core/redact.js';
import { runListen, type ListenOptions, type ListenStream } from '../../listen/run-listen.js';
import { createNdjsonSink } from '../../sinks/ndjson.js';
import { createPrettySink, formatStatus } from '../../sinks/pretty.js';
import { withStreamAgent } from '../../transport/agent.js';
import type { TokenPlacement } from '../../transport/auth.js';
import type { CliContext, RunCommand } from '../context.js';
import { addAuthFlags, authFlagsOf, type AuthFlags } from '../flags/auth.js';
import { resolveToken } from '../flags/credentials.js';
import { addHttpFlags, collect, parseCount, parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';

interface ListenFlags extends AuthFlags, HttpFlags {
  readonly lastEventId?: string;
  readonly maxEventSize: string;
  readonly reconnect: boolean;
  readonly maxRetries: string;
  readonly retryInitial: string;
  readonly retryMax: string;
  readonly heartbeatTimeout?: string;
  readonly json?: boolean;
  readonly compact?: boolean;
  readonly heartbeats?: boolean;
  readonly event?: readonly string[];
  readonly grep?: string;
  readonly maxEvents?: string;
  readonly maxTime?: string;
  readonly until?: string;
}

/** Registers `listen`. */
export function registerListenCommand(program: Command, run: RunCommand): void {
  const command = program
    .command('listen')
    .description('tail one or several SSE streams: spec-exact parsing, auth, reconnects with Last-Event-ID')
    .argument('<url...>', 'stream URL(s); several are tailed at once, tagged by stream');
  addHttpFlags(command);
  addAuthFlags(command);
  command
    .option('--last-event-id <id>', 'Last-Event-ID for the first request')
    .option('--max-event-size <size>', 'largest line or event accepted; over it the stream ends (exit 5)', '1MiB')
    .option('--no-reconnect', 'stop when the stream ends or fails instead of reconnecting')
    .option('--max-retries <n>', 'consecutive failed attempts before giving up (reset after a successful open)', '5')
    .option('--retry-initial <duration>', 'first backoff delay when the server gives no retry hint', '500ms')
    .option('--retry-max <duration>', 'backoff cap', '30s')
    .option('--heartbeat-timeout <duration>', 'reconnect when no byte at all arrives for this long')
    .option('--json', 'one JSON object per event per line (time, stream, event, type, id, data, json)')
    .option('--compact', 'one line per event (no pretty-printed JSON)')
    .option('--heartbeats', 'show comments and ping/heartbeat events, dimmed')
    .option('--event <glob>', 'only events whose type matches (raw or normalized; repeatable), e.g. order.*', collect)
    .option('--grep <regex>', 'only events whose data matches')
    .option('--max-events <n>', 'stop after this many events')
    .option('--max-time <duration>', 'stop after this long')
    .option('--until <type>', 'stop after the first event of this type')
    .addHelpText(
      'after',
      `
Examples:
  $ ssekit listen http://127.0.0.1:8787/api/admin/events --jwt-secret ssekit-dev-secret-change-me --role admin --sub 1
  $ SSEKIT_TOKEN=... ssekit listen https://api.example.com/api/v1/streams/deals https://api.example.com/api/v1/streams/tasks
  $ ssekit listen http://127.0.0.1:8787/admin/orders/sse --json --event 'order_*' | jq .json`,
    )
    .action((urls: string[], flags: ListenFlags, self: Command) => run((ctx) => listen(urls, authFlagsOf(flags, self), ctx)));
}

async function listen(urls: readonly string[], flags: ListenFlags, ctx: CliContext): Promise<number> {
  const http = await resolveHttpFlags(flags);
  const token = await resolveToken(flags);
  const parsedUrls = urls.map((text) => parseHttpUrl(text, 'listen'));
  const streams = buildStreams(urls, parsedUrls, token);
  const options: Omit<ListenOptions, 'dispatcher'> = {
    streams,
    headers: http.headers,
    lastEventId: flags.lastEventId,
    maxEventBytes: parsePositiveByteSize(flags.maxEventSize, '--max-event-size'),
    reconnect: flags.reconnect,
    maxRetries: parseCount(flags.maxRetries, '--max-retries', { allowZero: true }),
    retryInitialMs: parseDuration(flags.retryInitial, '--retry-initial'),
    retryMaxMs: parseDuration(flags.retryMax, '--retry-max'),
    heartbeatTimeoutMs: flags.heartbeatTimeout === undefined ? undefined : parsePositiveDuration(flags.heartbeatTimeout, '--heartbeat-timeout'),
    eventGlobs: flags.event ?? [],
    grep: flags.grep,
    maxEvents: flags.maxEvents === undefined ? undefined : parseCount(flags.maxEvents, '--max-events'),
    maxTimeMs: flags.maxTime === undefined ? undefined : parsePositiveDuration(flags.maxTime, '--max-time'),
    untilType: flags.until,
    isHeartbeatHidden: flags.json !== true && flags.heartbeats !== true,
  };
  const isMulti = streams.length > 1;
  const write = (text: string): void => void ctx.stdout.write(text);
  const writeStatus = (text: string): void => void ctx.stderr.write(text);
  const sink =
    flags.json === true
      ? createNdjsonSink(write, (stream, status) => {
          const text = formatStatus(status, isMulti);
          if (text !== undefined) writeStatus(`${isMulti ? `[${stream.tag}] ` : ''}${text}\n`);
        })
      : createPrettySink({ write, writeStatus, useColor: ctx.useColor, isCompact: flags.compact === true, showHeartbeats: flags.heartbeats === true, showTags: isMulti });

  return withStreamAgent(http, async (dispatcher) => {
    const result = await runListen({ ...options, dispatcher }, sink, ctx.signal);
    if (result.endReason === 'interrupted') {
      if (ctx.signal.reason instanceof InterruptedError && ctx.signal.reason.message === 'stdout closed') return ExitCode.ok;
      ctx.stderr.write(`ssekit: interrupted after ${result.eventsShown} event${result.eventsShown === 1 ? '' : 's'}\n`);
      return ExitCode.interrupted;
    }
    const first = result.errors[0];
    if (first !== undefined) {
      // Several streams: each failure was shown as it happened; the first one decides the exit code.
      if (isMulti && result.errors.length > 1) ctx.stderr.write(`ssekit: ${result.errors.length} of ${streams.length} streams failed\n`);
      const { error } = first;
      throw isMulti ? new SsekitError(error.code, error.exitCode, `[${first.stream.tag}] ${error.message}`, { hint: error.hint, cause: error }) : error;
    }
    return ExitCode.ok;
  });
}

/** One ListenStream per URL, with a short, unique tag (last path segment, else host). */
function buildStreams(texts: readonly string[], urls: readonly URL[], token: TokenPlacement | undefined): ListenStream[] {
  const extraSecretNames = token?.queryName === undefined ? [] : [token.queryName];
  const tags = urls.map((url) => url.pathname.split('/').filter(Boolean).pop() ?? url.host);
  return urls.map((url, i) => {
    const base = tags[i] ?? url.host;
    const isDuplicate = tags.filter((t) => t === base).length > 1;
    return {
      url,
      display: redactUrl(texts[i] ?? url.href, extraSecretNames),
      tag: redactText(isDuplicate ? `${base}#${i + 1}` : base),
      token,
    };
  });
}
