/**
 * What `ssekit publish` does once its flags are parsed (loaded only then): flags → watchers,
 * producer and schedule → the engine → per-event lines and the verdict → exit code.
 */
import { ExitCode, UsageError } from '../../core/errors.js';
import { parseDuration, parsePositiveByteSize, parsePositiveDuration } from '../../core/duration.js';
import { redactUrl } from '../../core/redact.js';
import { DEFAULT_BODIES } from '../../producers/default-bodies.js';
import { createProducer, producerKindOf } from '../../producers/producer.js';
import { compileTemplate } from '../../producers/template.js';
import type { GateStat, PublishedEvent } from '../../metrics/publish-result.js';
import type { Correlation } from '../../publish/correlation.js';
import { runPublish, type PublishOptions } from '../../publish/run-publish.js';
import type { WatchedStream } from '../../publish/watchers.js';
import { credentialsFor, describeIdentity, identityPolicyOf, type AuthPlan } from '../../transport/identity.js';
import { toJson } from '../../reporters/json.js';
import { createPublishTextReporter } from '../../reporters/publish-text.js';
import { withStreamAgent } from '../../transport/agent.js';
import type { CliContext } from '../context.js';
import { readDataFlag } from '../flags/data.js';
import type { AuthFlags } from '../flags/auth.js';
import { authPlanFromFlags } from '../flags/credentials.js';
import { VERSION } from '../version.js';
import { checkOutputPaths, writeOutputFiles } from '../flags/output.js';
import { parseCount, parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';

/** The raw flag values. */
export interface PublishFlags extends AuthFlags, HttpFlags {
  readonly data?: string;
  readonly method: string;
  readonly watch?: readonly string[];
  readonly listeners: string;
  readonly count: string;
  readonly rate: string;
  readonly timeout: string;
  readonly target: string;
  readonly gate: GateStat;
  readonly idFrom?: string;
  readonly idPath?: string;
  readonly json?: boolean;
  readonly maxEventSize: string;
  readonly out?: string;
  readonly maxSelfLag?: string;
}


/** Runs `publish` with parsed flags; the exit code. */
export async function publish(producerUrl: string, flags: PublishFlags, ctx: CliContext): Promise<number> {
  const http = await resolveHttpFlags(flags, ctx.env);
  const auth = await authPlanFromFlags(flags);
  if (flags.watch === undefined || flags.watch.length === 0) throw new UsageError('publish needs at least one --watch <stream-url> to measure delivery');
  const listenersPerStream = parseCount(flags.listeners, '--listeners');
  const watch = await watchersFor(flags.watch, listenersPerStream, auth);
  const identityPolicy = identityPolicyOf(auth);
  const identity = { isShared: identityPolicy.kind === 'shared-subject' || identityPolicy.kind === 'shared-token', description: describeIdentity(identityPolicy, watch.length, 'watchers') };
  // The producer acts as the first watcher's user (a seed's producer checks the role, not who).
  const token = (await credentialsFor(auth, 0)).token;
  const producerKind = producerKindOf(producerUrl);
  const bodyText = flags.data === undefined ? DEFAULT_BODIES[producerKind] : await readDataFlag(flags.data);
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
      identity,
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
      maxSelfLagMs: flags.maxSelfLag === undefined ? undefined : parsePositiveDuration(flags.maxSelfLag, '--max-self-lag'),
    };
    const reporter = createPublishTextReporter({ useColor: ctx.useColor, targetMs: options.targetMs });
    const isJson = flags.json === true;
    const result = await runPublish(options, {
      signal: ctx.signal,
      ...(isJson ? {} : { onEvent: (event: PublishedEvent) => void ctx.stdout.write(`${reporter.eventLine(event)}\n`) }),
      onStatus: (text) => void ctx.stderr.write(`${text}\n`),
    });
    let json: string | undefined;
    const resultJson = (): string => (json ??= `${toJson(result)}\n`);
    const writeFailures = await writeOutputFiles([[flags.out, resultJson]]);
    if (isJson) ctx.stdout.write(resultJson());
    else ctx.stdout.write(reporter.summary(result));
    if (writeFailures.length > 0) throw new UsageError(writeFailures.join('; '));
    if (result.endReason === 'interrupted') return ExitCode.interrupted;
    return result.endReason === 'passed' ? ExitCode.ok : ExitCode.gateFailed;
  });
}

/**
 * One watching connection per stream and listener, each with its own credentials: minted
 * tokens get one subject per watcher (`vu-<n>`, or the claims' `{{vu}}`), so a backend that
 * keeps one stream per user does not close the others.
 */
async function watchersFor(urls: readonly string[], listenersPerStream: number, auth: AuthPlan | undefined): Promise<WatchedStream[]> {
  const watchers: WatchedStream[] = [];
  for (const text of urls) {
    const url = parseHttpUrl(text, '--watch');
    for (let k = 0; k < listenersPerStream; k++) watchers.push({ url, display: redactUrl(text), token: (await credentialsFor(auth, watchers.length)).token });
  }
  return watchers;
}


