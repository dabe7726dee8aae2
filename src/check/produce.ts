/**
 * One producer call of a check: the contract's producer (an HTTP call on the target such as
 * seed 000's `POST /orders`, or a Redis/AMQP URL), with the body template filled — `{{nonce}}`
 * becomes a marker unique to the run and the call, which the check then finds in the delivered
 * event with one `indexOf` (as `publish` does), and `{{response.<path>}}` the previous call's
 * JSON answer (seed 003's `PATCH /admin/orders/{order_id}` needs the id `POST` returned).
 */
import type { Dispatcher } from 'undici';
import { readJsonPath } from '../core/json-path.js';
import { UsageError } from '../core/errors.js';
import { createProducer, producerKindOf } from '../producers/producer.js';
import { compileTemplate } from '../producers/template.js';
import type { TokenPlacement } from '../transport/auth.js';
import type { TokenRequest } from './identities.js';
import type { ProduceStep } from './plan.js';

/** What one call did. */
export interface ProduceOutcome {
  /** The marker in the body, or undefined when the body has no `{{nonce}}` (then match by type). */
  readonly marker: string | undefined;
  /** `performance.now()` just before the producer was called (latency counts from here: CONTRACTS "What follows"). */
  readonly calledAtMs: number;
  readonly responseText: string | undefined;
}

/** Everything a call needs besides the step. */
export interface ProduceOptions {
  readonly seq: number;
  readonly previousResponse?: string | undefined;
  readonly markerPrefix: string;
  readonly url: (pathOrUrl: string) => URL;
  readonly token: (request: TokenRequest) => Promise<TokenPlacement>;
  /** The caller's own token (a logout must come from the user whose stream it ends); default: a fresh one for `step.as`. */
  readonly asToken?: TokenPlacement | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly dispatcher: Dispatcher;
  readonly timeoutMs: number;
}

const RESPONSE_RE = /\{\{\s*response\.([^}\s]+)\s*\}\}/g;

/** Calls the producer once; throws `ProducerError` when it refuses or cannot be reached. */
export async function runProduceStep(step: ProduceStep, options: ProduceOptions): Promise<ProduceOutcome> {
  const marker = `${options.markerPrefix}${options.seq}_`;
  const target = fillFromResponse(step.url, options.previousResponse, true);
  const url = options.url(target).href;
  const kind = producerKindOf(url);
  const template = step.body === undefined ? undefined : compileTemplate(fillFromResponse(step.body, options.previousResponse, false));
  const token = kind === 'http' ? (options.asToken ?? (await options.token({ as: step.as }))) : undefined;
  const producer = createProducer(url, { method: step.method, headers: options.headers, token, dispatcher: options.dispatcher, timeoutMs: options.timeoutMs });
  // The HTTP producer's open() is only a TCP probe; brokers need it to connect.
  if (kind !== 'http') await producer.open();
  try {
    const calledAtMs = performance.now();
    const result = await producer.publish(template?.render(options.seq, marker) ?? '');
    return { marker: template?.hasNonce === true ? marker : undefined, calledAtMs, responseText: result.responseText };
  } finally {
    await producer.close();
  }
}

/** Replaces `{{response.<path>}}` with the value at that path of the previous answer (URL-encoded in a URL, JSON-quoted in a body). */
function fillFromResponse(text: string, previousResponse: string | undefined, isUrl: boolean): string {
  if (!text.includes('{{')) return text;
  return text.replace(RESPONSE_RE, (_match, path: string) => {
    let json: unknown;
    try {
      json = previousResponse === undefined ? undefined : JSON.parse(previousResponse);
    } catch {
      json = undefined;
    }
    const value = readJsonPath(json, path);
    if (value === undefined) throw new UsageError(`{{response.${path}}}: the previous producer answer has no ${path}`);
    if (isUrl) return encodeURIComponent(String(value));
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}
