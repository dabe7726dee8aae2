/**
 * Check `headers`: the response headers of an opened stream, as the contract lists them
 * (CONTRACTS §1 `X-Reconnect-Delay: 3000`, `X-Accel-Buffering: no`; §4 `Cache-Control:
 * no-cache`, `Connection: keep-alive`), and optionally the first `retry:` field.
 *
 *     headers:
 *       expect: {content-type: text/event-stream, x-reconnect-delay: "3000"}
 *       retry: 3s
 */
import { headerValue } from '../../transport/open-stream.js';
import type { CheckContext, CheckKindRunner } from '../context.js';
import { fail, notOpened, pass, quoted, seconds } from '../evidence.js';
import type { HeadersCheck } from '../plan.js';
import { BASE_KEYS, type CheckReader } from '../read-common.js';

const RETRY_WAIT_MS = 1_000;

/** Reads `checks.<name>` of kind headers. */
export const readHeadersCheck: CheckReader<HeadersCheck> = (f, base) => {
  f.allowOnly([...BASE_KEYS, 'expect', 'retry']);
  const raw = f.mapping('expect') ?? {};
  const expect: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value === 'string' || typeof value === 'number') expect[name.toLowerCase()] = String(value);
    else f.problem('must be a string', `expect.${name}`);
  }
  const retryMs = f.has('retry') ? f.duration('retry', 0) : undefined;
  if (Object.keys(expect).length === 0 && retryMs === undefined) f.problem("lists no header (expect:) and no 'retry:'");
  return { ...base, kind: 'headers', expect, retryMs };
};

/** Runs a headers check. */
export const headersRunner: CheckKindRunner<HeadersCheck> = {
  plannedMs: (spec) => (spec.retryMs === undefined ? 0 : RETRY_WAIT_MS),
  async run(spec, ctx) {
    const probe = await ctx.open(spec.stream, await ctx.token({ as: spec.as }));
    if (!probe.isStream) return notOpened(probe);
    const seen: string[] = [];
    const wrong: string[] = [];
    for (const [name, expected] of Object.entries(spec.expect)) {
      const actual = headerValue(probe.headers[name]);
      if (actual === undefined) wrong.push(`${name} missing (contract: ${expected})`);
      else if (!headerMatches(name, actual, expected)) wrong.push(`${name} is ${quoted(actual)} (contract: ${expected})`);
      else seen.push(`${name}: ${expected}`);
    }
    const retry = await checkRetry(spec, probe, ctx);
    if (retry !== undefined) (retry.isOk ? seen : wrong).push(retry.text);
    return wrong.length === 0 ? pass(`${probe.status}; ${seen.join('; ')}`) : fail([...wrong, ...seen.map((s) => `${s} ✓`)].join('; '));
  },
};

/** Content-Type compares the media type (a charset may follow); other headers compare trimmed, ignoring case. */
function headerMatches(name: string, actual: string, expected: string): boolean {
  const norm = (value: string): string => (name === 'content-type' ? (value.split(';')[0] ?? '') : value).trim().toLowerCase();
  return norm(actual) === norm(expected);
}

async function checkRetry(spec: HeadersCheck, probe: Awaited<ReturnType<CheckContext['open']>>, ctx: CheckContext): Promise<{ isOk: boolean; text: string } | undefined> {
  if (spec.retryMs === undefined) return undefined;
  // `retry:` is a field of the stream, not a header: it comes with the first bytes, if at all.
  await probe.waitFor(() => probe.retryMs() !== undefined, RETRY_WAIT_MS);
  if (ctx.signal.aborted) return undefined;
  const retryMs = probe.retryMs();
  if (retryMs === undefined) return { isOk: false, text: `no retry: field within ${seconds(RETRY_WAIT_MS)} (contract: ${spec.retryMs})` };
  return retryMs === spec.retryMs ? { isOk: true, text: `retry: ${retryMs}` } : { isOk: false, text: `retry: ${retryMs} (contract: ${spec.retryMs})` };
}
