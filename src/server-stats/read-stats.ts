/**
 * Server figures: read what a backend says about its streams, from Prometheus text, a JSON stats
 * endpoint or a `name: value` status page, into one `ServerStats` (used by `ssekit stats` and by
 * bench's leak detector). Parsers live beside this file; this one detects, fetches and selects.
 */
import type { Dispatcher } from 'undici';
import { formatDuration } from '../core/duration.js';
import { ConnectError, HttpStatusError, InterruptedError, ProtocolError, SsekitError, UsageError } from '../core/errors.js';
import { isSecretHeaderName, redactUrl } from '../core/redact.js';
import { errorBodySummary, quoteServerText } from '../core/escape.js';
import type { TokenPlacement } from '../transport/auth.js';
import { discardBody, getFollowingRedirects } from '../transport/follow-redirects.js';
import { connectErrorFor, describeStatus, headerValue, isEventStreamType } from '../transport/open-stream.js';
import { jsonFigures, notStatsWarning, parseJsonText, selectJsonPath } from './json-stats.js';
import { estimateQuantile, familyNameOf, parsePrometheusText, parsePrometheusValue, sumBuckets } from './prometheus.js';
import { parseStatusPage } from './status-page.js';
import type { ServerStats, StatsFormat } from './types.js';

/** Options for `fetchServerStats`. */
export interface FetchServerStatsOptions {
  /** Extra request headers (`-H`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Bearer token or query token; never sent to another origin after a redirect. */
  readonly token?: TokenPlacement | undefined;
  readonly dispatcher: Dispatcher;
  /** Skip detection and parse as this format. */
  readonly format?: StatsFormat | undefined;
  /** Aborts the request; its reason is rethrown when it is an ssekit error (Ctrl-C). */
  readonly signal?: AbortSignal | undefined;
  /** Whole request, headers and body, in ms (default 10 000). */
  readonly timeoutMs?: number | undefined;
}

/** Largest stats body read (a stats JSON listing every connection can be big, but not this big). */
export const MAX_STATS_BYTES = 64 * 1024 * 1024;
const ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.6,text/plain;version=0.0.4;q=0.7,application/json;q=0.8,text/plain;q=0.5,*/*;q=0.1';

/**
 * GETs a stats URL and parses it. Typed errors: `ConnectError` (3) when unreachable or too slow,
 * `HttpStatusError` (4) for a non-2xx answer such as 401/403/404, `ProtocolError` (5) when the
 * body is not one of the formats.
 */
export async function fetchServerStats(url: URL, options: FetchServerStatsOptions): Promise<ServerStats> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
  const show = (u: URL): string => redactUrl(u, options.token?.queryName === undefined ? [] : [options.token.queryName]);
  const failed = (error: unknown, u: URL): never => {
    if (options.signal?.aborted) throw options.signal.reason instanceof SsekitError ? options.signal.reason : new InterruptedError();
    if (timeout.aborted) throw new ConnectError(`no answer within ${formatDuration(timeoutMs)}: GET ${show(u)}`, { code: 'SSEKIT_STATS_TIMEOUT', cause: error });
    throw connectErrorFor(error, u, options.token);
  };
  let opened: { response: Dispatcher.ResponseData; url: URL };
  try {
    opened = await getFollowingRedirects({ url, headers: { accept: ACCEPT, ...options.headers }, token: options.token, dispatcher: options.dispatcher, signal });
  } catch (error) {
    if (error instanceof SsekitError) throw error;
    return failed(error, url);
  }
  const { response, url: answered } = opened;
  if (isEventStreamType(headerValue(response.headers['content-type']))) {
    // A stream never ends: waiting for its "body" would only time out.
    discardBody(response.body);
    throw new ProtocolError('SSEKIT_STATS_IS_STREAM', `this is an SSE stream, not a stats endpoint: GET ${show(answered)}`, { hint: 'point ssekit stats at /metrics or a JSON stats URL; tail streams with ssekit listen' });
  }
  let body: string;
  try {
    body = await readBody(response.body, answered, show);
  } catch (error) {
    if (error instanceof SsekitError) throw error;
    return failed(error, answered);
  }
  if (response.statusCode < 200 || response.statusCode > 299) throw statusError(response.statusCode, body, `GET ${show(answered)}`, options.token !== undefined || Object.keys(options.headers).some(isSecretHeaderName));
  return parseServerStats(body, headerValue(response.headers['content-type']), options.format);
}

async function readBody(body: Dispatcher.ResponseData['body'], url: URL, show: (u: URL) => string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_STATS_BYTES) {
      discardBody(body);
      throw new ProtocolError('SSEKIT_STATS_TOO_BIG', `stats response over ${MAX_STATS_BYTES / 1024 / 1024} MiB: GET ${show(url)}`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function statusError(status: number, body: string, where: string, hasToken: boolean): HttpStatusError {
  // FastAPI's {"detail": …}, §5's {"code": …}: quoted and escaped, as for streams.
  const said = errorBodySummary(body);
  let hint: string | undefined;
  if ((status === 401 || status === 403) && !hasToken) hint = 'no token was sent: the stats endpoint wants one (--token, SSEKIT_TOKEN, --token-file, or mint one with --jwt-secret)';
  else if (status === 401) hint = 'the stats endpoint did not accept the token: check it, or mint one with --jwt-secret';
  else if (status === 403) hint = 'the token was accepted but lacks the role for the stats (seed 002: superadmin)';
  else if (status === 404) hint = 'check the path (e.g. /metrics, /api/v1/notifications/stream/stats, /nginx_status)';
  return new HttpStatusError(status, `server answered ${describeStatus(status)}${said === undefined ? '' : ` (${quoteServerText(said)})`}: ${where}`, { serverCode: said, hint });
}

/**
 * Which format a body is in. `--format` wins; then the Content-Type (JSON types, Prometheus'
 * `text/plain; version=0.0.4`, OpenMetrics); then the text itself: `{`/`[` is JSON, `# TYPE` /
 * `# HELP` or lines that all parse as samples are Prometheus, `name: value` lines a status page.
 * Undefined when nothing fits.
 */
export function detectStatsFormat(text: string, contentType: string | undefined): StatsFormat | undefined {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (media === 'application/json' || media.endsWith('+json')) return 'json';
  if (media === 'application/openmetrics-text' || (media === 'text/plain' && /version\s*=\s*0\.0\.4/i.test(contentType ?? ''))) return 'prometheus';
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return 'json';
  if (/^#\s+(TYPE|HELP)\s/m.test(text)) return 'prometheus';
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  // `name:` is a legal Prometheus name, so `total: 5` parses as a sample: only call it
  // Prometheus when some name does not end in a colon.
  const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?[ \t]+\S+([ \t]+\S+)?$/;
  if (lines.length > 0 && lines.every((l) => sample.test(l) && parsePrometheusValue((l.replace(/\{.*\}/, '').trim().split(/[ \t]+/)[1] ?? '')) !== undefined) && lines.some((l) => !/^[^\s{]*:[ \t{]/.test(l))) {
    return 'prometheus';
  }
  if (parseStatusPage(text).length > 0) return 'status-page';
  return undefined;
}

/** Parses a stats body, detecting the format unless `format` is given. */
export function parseServerStats(text: string, contentType: string | undefined, format?: StatsFormat): ServerStats {
  const chosen = format ?? detectStatsFormat(text, contentType);
  if (chosen === undefined) {
    const start = text.trimStart().slice(0, 60).replace(/\s+/g, ' ');
    throw new ProtocolError('SSEKIT_UNKNOWN_STATS_FORMAT', `cannot tell the stats format (Content-Type ${contentType === undefined ? 'none' : `'${contentType}'`}, body starts ${JSON.stringify(start)})`, {
      hint: 'expected Prometheus text, JSON or `name: value` lines; force one with --format prometheus|json|status-page',
    });
  }
  if (chosen === 'prometheus') {
    const parsed = parsePrometheusText(text);
    return { format: 'prometheus', figures: parsed.figures, histograms: parsed.histograms, families: parsed.families };
  }
  if (chosen === 'json') {
    const json = parseJsonText(text);
    const figures = jsonFigures(json);
    const warning = notStatsWarning(figures);
    return { format: 'json', figures, histograms: [], json, ...(warning === undefined ? {} : { warning }) };
  }
  const figures = parseStatusPage(text);
  if (figures.length === 0) throw new ProtocolError('SSEKIT_BAD_STATS', 'status page: no `name: value` line with a number', { hint: 'is this the status page? try --format prometheus or json' });
  return { format: 'status-page', figures, histograms: [] };
}

/** A parsed Prometheus selector: see `selectFigure`. */
export interface PromSelector {
  readonly name: string;
  readonly matchers: readonly { readonly label: string; readonly op: '=' | '!=' | '=~' | '!~'; readonly value: string }[];
  /** `:p99` → 0.99. */
  readonly quantile: number | undefined;
}

/** Parses `name`, `name{a="x",b!="y",c=~"re"}`, optionally followed by `:p50`/`:p99`/`:p99.9`. */
export function parsePromSelector(selector: string): PromSelector {
  const bad = (why: string): never => {
    throw new UsageError(`selector '${selector}': ${why}`, { hint: `e.g. sse_connections_active, sse_connections_active{role="admin"}, sse_connection_duration_seconds:p99` });
  };
  const text = selector.trim();
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text);
  if (nameMatch === null) return bad('expected a metric name');
  let name = nameMatch[0];
  let pos = name.length;
  const matchers: Array<{ label: string; op: '=' | '!=' | '=~' | '!~'; value: string }> = [];
  if (text[pos] === '{') {
    pos += 1;
    for (;;) {
      while (text[pos] === ' ' || text[pos] === ',') pos += 1;
      if (text[pos] === '}') {
        pos += 1;
        break;
      }
      const m = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/.exec(text.slice(pos));
      if (m === null) return bad(`expected label="value" at '${text.slice(pos, pos + 20)}'`);
      const value = (m[3] as string).replace(/\\(.)/g, (_x, c: string) => (c === 'n' ? '\n' : c));
      matchers.push({ label: m[1] as string, op: m[2] as '=' | '!=' | '=~' | '!~', value });
      pos += m[0].length;
    }
  }
  let quantile: number | undefined;
  const rest = text.slice(pos);
  if (rest !== '') {
    const q = /^:p(\d+(?:\.\d+)?)$/.exec(rest);
    if (q === null) return bad(`unexpected '${rest}'`);
    const percent = Number(q[1]);
    if (!(percent >= 0 && percent <= 100)) return bad('the percentile must be 0–100');
    quantile = percent / 100;
  } else {
    // `a:p99` without braces: the name regex took the suffix, since colons are legal in names.
    const q = /^(.*[^:]):p(\d+(?:\.\d+)?)$/.exec(name);
    if (q !== null) {
      name = q[1] as string;
      quantile = Number(q[2]) / 100;
    }
  }
  return { name, matchers, quantile };
}

/** Whether a label set satisfies every matcher of a selector. */
export function labelsMatch(labels: Readonly<Record<string, string>>, matchers: PromSelector['matchers']): boolean {
  return matchers.every((m) => {
    const actual = labels[m.label] ?? '';
    if (m.op === '=') return actual === m.value;
    if (m.op === '!=') return actual !== m.value;
    // PromQL regex matchers are anchored at both ends.
    const matches = new RegExp(`^(?:${m.value})$`).test(actual);
    return m.op === '=~' ? matches : !matches;
  });
}

/**
 * One number from the stats, or undefined when there is no such figure.
 * - Prometheus: `name` (sum of all its series) or `name{label="v",...}` (sum of the matching
 *   series; `!=`, `=~`, `!~` as in PromQL). A family declared by `# TYPE` but with no matching
 *   series sums to 0. `hist:p99` / `hist{...}:p50` estimates a histogram quantile from its
 *   buckets (PromQL `histogram_quantile`), in the histogram's unit.
 * - JSON: a path (`total_connections`, `a.b[0].c`, `admins.length`; a path to an array gives its length).
 * - Status page: the key (`Active connections`), exactly, else ignoring case and spacing.
 */
export function selectFigure(stats: ServerStats, selector: string): number | undefined {
  if (stats.format === 'json') return selectJsonPath(stats.json, selector);
  if (stats.format === 'status-page') {
    const exact = stats.figures.find((f) => f.name === selector);
    if (exact !== undefined) return exact.value;
    const norm = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();
    return stats.figures.find((f) => norm(f.name) === norm(selector))?.value;
  }
  const parsed = parsePromSelector(selector);
  // `a:p99` may also be a real metric name (colons are legal): prefer the metric when it exists.
  const isLiteral = parsed.quantile !== undefined && stats.figures.some((f) => f.name === selector.trim());
  if (parsed.quantile !== undefined && !isLiteral) {
    const series = stats.histograms.filter((h) => h.name === parsed.name && labelsMatch(h.labels, parsed.matchers));
    if (series.length === 0) return undefined;
    const value = estimateQuantile(sumBuckets(series), parsed.quantile);
    return Number.isNaN(value) ? undefined : value;
  }
  const name = isLiteral ? selector.trim() : parsed.name;
  const matching = stats.figures.filter((f) => f.name === name && labelsMatch(f.labels, parsed.matchers));
  if (matching.length > 0) return matching.reduce((sum, f) => sum + f.value, 0);
  const family = stats.families?.find((f) => f.name === name);
  // A declared gauge/counter without series yet: nothing counted, so 0 (not "absent").
  if (family !== undefined && family.kind !== 'histogram' && family.kind !== 'summary') return 0;
  const parent = stats.families === undefined ? undefined : familyNameOf(name, stats.families);
  if (parent !== undefined && parent !== name && !name.endsWith('_bucket')) return 0;
  return undefined;
}

/**
 * The figures closest to a selector that matched nothing (a typo in `--server-metric`): names
 * that contain it or that it contains, then the nearest by edit distance; at most `count`.
 */
export function nearestFigureNames(stats: ServerStats, selector: string, count = 3): string[] {
  const wanted = (stats.format === 'prometheus' ? parsePromSelector(selector).name : selector).toLowerCase();
  const names = [...new Set([...stats.figures.map((f) => f.name), ...(stats.families ?? []).map((f) => f.name)])];
  const score = (name: string): number => {
    const lower = name.toLowerCase();
    if (lower.includes(wanted) || wanted.includes(lower)) return 0;
    return editDistance(lower, wanted);
  };
  return names
    .map((name) => ({ name, score: score(name) }))
    .filter((n) => n.score <= Math.max(3, Math.floor(wanted.length / 3)))
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((n) => n.name);
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
