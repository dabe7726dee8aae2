/** HTTP producer: POSTs the body (seed 000: `POST /orders` creates an order and broadcasts it). */
import { connect } from 'node:net';
import { request } from 'undici';
import { formatDuration } from '../core/duration.js';
import { ProducerError } from '../core/errors.js';
import { errorBodySummary, quoteServerText } from '../core/escape.js';
import { redactUrl } from '../core/redact.js';
import { applyToken } from '../transport/auth.js';
import { connectErrorFor, describeStatus } from '../transport/open-stream.js';
import type { Producer, ProducerOptions } from './types.js';

const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Creates the HTTP producer. */
export function createHttpProducer(url: URL, options: ProducerOptions): Producer {
  const secretNames = options.token?.queryName === undefined ? [] : [options.token.queryName];
  const description = `${options.method ?? 'POST'} ${redactUrl(url, secretNames)}`;
  const baseHeaders: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  for (const [name, value] of Object.entries(options.headers ?? {})) baseHeaders[name.toLowerCase()] = value;
  const target = applyToken(url, baseHeaders, options.token, url.origin);
  return {
    kind: 'http',
    description,
    // A run must not start against a producer nobody listens on (exit 3, not 99 later): a TCP
    // connect is the check, with no request the backend would act on.
    async open() {
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port, timeout: options.timeoutMs ?? 10_000 });
        socket.once('connect', () => {
          socket.destroy();
          resolve();
        });
        socket.once('timeout', () => {
          socket.destroy();
          reject(new ProducerError(`cannot connect to the producer: no answer within ${formatDuration(options.timeoutMs ?? 10_000)}: ${description}`, { code: 'SSEKIT_PRODUCER_UNREACHABLE', isUnreachable: true }));
        });
        socket.once('error', (error) => reject(new ProducerError(`cannot connect to the producer: ${connectErrorFor(error, url, options.token).message}`, { code: 'SSEKIT_PRODUCER_UNREACHABLE', isUnreachable: true, cause: error })));
      });
    },
    async publish(body) {
      let response;
      try {
        response = await request(target.url, {
          method: (options.method ?? 'POST') as 'POST',
          headers: target.headers,
          body,
          dispatcher: options.dispatcher,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (error) {
        const isTimeout = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        const detail = isTimeout ? `no answer within ${formatDuration(options.timeoutMs ?? 10_000)}: ${description}` : connectErrorFor(error, url, options.token).message;
        throw new ProducerError(`producer failed: ${detail}`, { code: 'SSEKIT_PRODUCER_UNREACHABLE', isUnreachable: true, cause: error });
      }
      let text = '';
      let size = 0;
      for await (const chunk of response.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size <= MAX_RESPONSE_BYTES) text += buf.toString('utf8');
      }
      if (response.statusCode < 200 || response.statusCode >= 300) throw statusError(response.statusCode, text, description);
      return { responseText: text };
    },
    async close() {},
  };
}

/** A producer's non-2xx answer, with what it said (quoted, escaped) and what to check. */
function statusError(status: number, body: string, description: string): ProducerError {
  const trimmed = body.trim().replace(/\s+/g, ' ');
  const said = trimmed === '' ? undefined : quoteServerText(errorBodySummary(body) ?? trimmed);
  let hint: string | undefined;
  if (status === 400 || status === 422) hint = 'the producer refused the event body: check --data (bench: --body) against what the endpoint expects';
  else if (status === 401 || status === 403) hint = "check the producer's credentials: the token publish (or bench's publish.auth) sends, and its role";
  else if (status === 404 || status === 405) hint = 'check the producer URL and --method';
  return new ProducerError(`producer answered ${describeStatus(status)}${said === undefined ? '' : ` (${said})`}: ${description}`, { code: 'SSEKIT_PRODUCER_STATUS', isUnreachable: status >= 500, hint });
}
