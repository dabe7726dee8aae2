/**
 * What `ssekit listen` does once its flags are parsed (loaded only then): flags → ListenOptions
 * → runListen → a sink (pretty, NDJSON or raw) → exit code from how it ended.
 */
import { ExitCode, InterruptedError, SsekitError, UsageError } from '../../core/errors.js';
import { parseDuration, parsePositiveByteSize, parsePositiveDuration } from '../../core/duration.js';
import { redactText, redactUrl } from '../../core/redact.js';
import { runListen, type ListenOptions, type ListenResult, type ListenSink, type ListenStream } from '../../listen/run-listen.js';
import { createNdjsonSink } from '../../sinks/ndjson.js';
import { createSinkOutput, type SinkOutput } from '../../sinks/output.js';
import { createPrettySink, statusLines } from '../../sinks/pretty.js';
import { escapeControl } from '../../core/escape.js';
import { createRawSink } from '../../sinks/raw.js';
import { withStreamAgent } from '../../transport/agent.js';
import type { TokenPlacement } from '../../transport/auth.js';
import { createRestartTrigger } from '../../transport/restart-trigger.js';
import type { StreamStatus } from '../../transport/sse-connection.js';
import { defaultContentTypeFor } from '../../core/content-type.js';
import type { CliContext } from '../context.js';
import { readDataFlag } from '../flags/data.js';
import type { AuthFlags } from '../flags/auth.js';
import { resolveToken } from '../flags/credentials.js';
import { parseCount, parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';

/** The raw flag values. */
export interface ListenFlags extends AuthFlags, HttpFlags {
  readonly method?: string;
  readonly data?: string;
  readonly contentType?: string;
  readonly lastEventId?: string;
  readonly maxEventSize: string;
  readonly reconnect: boolean;
  readonly maxRetries: string;
  readonly retryInitial: string;
  readonly retryMax: string;
  readonly heartbeatTimeout?: string;
  readonly json?: boolean;
  readonly raw?: boolean;
  readonly compact?: boolean;
  readonly heartbeats?: boolean;
  readonly event?: readonly string[];
  readonly grep?: string;
  readonly maxEvents?: string;
  readonly maxTime?: string;
  readonly until?: string;
  readonly failFast?: boolean;
}


/** Runs `listen` with parsed flags; the exit code. */
export async function listen(urls: readonly string[], flags: ListenFlags, ctx: CliContext): Promise<number> {
  const http = await resolveHttpFlags(flags, ctx.env);
  const token = await resolveToken(flags);
  const parsedUrls = urls.map((text) => parseHttpUrl(text, 'listen'));
  checkOutputFlags(flags, parsedUrls.length);
  const streams = buildStreams(urls, parsedUrls, token);
  const options: Omit<ListenOptions, 'dispatcher'> = {
    streams,
    headers: http.headers,
    ...(await requestOf(flags)),
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
    isFailFast: flags.failFast === true,
  };
  // Everything is validated: only now take stdout, SIGHUP and the agent.
  // Ctrl-C, or a stdout that failed, stops the run.
  const outputFailed = new AbortController();
  const stop = AbortSignal.any([ctx.signal, outputFailed.signal]);
  const output = createSinkOutput(ctx.stdout, (error) => outputFailed.abort(error));
  const restart = createRestartTrigger();
  const onHangup = (): void => restart.restart();
  process.on('SIGHUP', onHangup);
  try {
    return await withStreamAgent(http, async (dispatcher) => {
      const result = await runListen({ ...options, dispatcher, flow: output.gate, restart }, createSink(flags, output, ctx, streams.length > 1), stop);
      return exitCodeOf(result, { output, ctx, streamCount: streams.length });
    });
  } finally {
    process.off('SIGHUP', onHangup);
    output.dispose();
  }
}

/** `--raw` shows one byte stream; it does not mix with the event printers. */
function checkOutputFlags(flags: ListenFlags, urlCount: number): void {
  if (flags.raw !== true) return;
  if (flags.json === true || flags.compact === true) throw new UsageError('--raw prints the bytes as received: it does not go with --json or --compact');
  if (urlCount > 1) throw new UsageError('--raw takes one stream URL (the bytes of several streams would interleave)');
}

/** Method, body and content type from --method, --data and --content-type. */
async function requestOf(flags: ListenFlags): Promise<Pick<ListenOptions, 'method' | 'body' | 'contentType'>> {
  const body = flags.data === undefined ? undefined : await readDataFlag(flags.data);
  const method = (flags.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase();
  if (!/^[!#$%&'*+.^_`|~0-9A-Z-]+$/.test(method)) throw new UsageError(`--method: '${flags.method ?? ''}' is not an HTTP method`);
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) throw new UsageError(`--data: a ${method} request has no body`, { hint: 'use --method POST (the default with --data) or REPORT' });
  if (flags.contentType !== undefined && body === undefined) throw new UsageError('--content-type describes --data: give both');
  if (body === undefined) return { method };
  return { method, body, contentType: flags.contentType ?? defaultContentTypeFor(body) };
}



/** The sink for the output flags; status lines go to stderr, tagged when there are several streams. */
function createSink(flags: ListenFlags, output: SinkOutput, ctx: CliContext, isMulti: boolean): ListenSink {
  const write = (text: string): void => output.write(text);
  const writeStatus = (text: string): void => void ctx.stderr.write(text);
  const onStatus = (stream: ListenStream, status: StreamStatus): void => {
    for (const line of statusLines(status, isMulti)) writeStatus(`${isMulti ? `[${escapeControl(stream.tag, false)}] ` : ''}${line}\n`);
  };
  if (flags.raw === true) return createRawSink({ write, onStatus });
  if (flags.json === true) return createNdjsonSink({ write, onStatus, showComments: flags.heartbeats === true });
  return createPrettySink({ write, writeStatus, useColor: ctx.useColor, isCompact: flags.compact === true, showHeartbeats: flags.heartbeats === true, showTags: isMulti });
}

/**
 * The exit code: a stdout failure first (exit 2, as an unwritable -o is), then Ctrl-C (130; a
 * reader that went away is 0), then the failed streams. With one stream its error is thrown as
 * it is; with several, each was printed once as it happened, so the last line only counts them
 * and carries the worst exit code (the highest: protocol 5 > refused 4 > unreachable 3).
 */
function exitCodeOf(result: ListenResult, env: { output: SinkOutput; ctx: CliContext; streamCount: number }): number {
  const { output, ctx } = env;
  if (output.failure !== undefined) {
    throw new UsageError(`cannot write to stdout: ${output.failure.code ?? output.failure.message}`, { cause: output.failure, hint: 'the output went to a full disk or a closed file; events after that were not shown' });
  }
  if (result.endReason === 'interrupted') {
    if (ctx.signal.reason instanceof InterruptedError && ctx.signal.reason.message === 'stdout closed') return ExitCode.ok;
    ctx.stderr.write(`ssekit: interrupted after ${result.eventsShown} event${result.eventsShown === 1 ? '' : 's'}\n`);
    return ExitCode.interrupted;
  }
  const first = result.errors[0];
  if (first === undefined) return ExitCode.ok;
  if (env.streamCount === 1) throw first.error;
  const worst = result.errors.reduce((code, { error }) => (error.exitCode > code ? error.exitCode : code), first.error.exitCode);
  const stopped = result.endReason === 'stream-failed' ? ' (--fail-fast stopped the others)' : '';
  throw new SsekitError('SSEKIT_STREAMS_FAILED', worst, `${result.errors.length} of ${env.streamCount} streams failed${stopped}; each is named above`);
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
