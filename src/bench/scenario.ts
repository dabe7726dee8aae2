/**
 * Scenario files (YAML or JSON) → a validated `BenchPlan`. Precedence (k6): defaults < file <
 * overrides from flags. Validation reports every problem at once, each as
 * `<file>: <field> <what is wrong>`, never a stack trace.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import { defaultContentTypeFor } from '../core/content-type.js';
import { parseDuration } from '../core/duration.js';
import { parseThreshold, withGuardThresholds } from '../metrics/thresholds.js';
import { STATS_FORMATS, type StatsFormat } from '../server-stats/types.js';
import type { AuthPlan } from '../transport/identity.js';
import { defaultBodyFor } from '../producers/default-bodies.js';

import { CHURN_MODES, type ChurnMode } from './churn-modes.js';

/** A stream asked for with a method and a body; `{{vu}}` in the body is the client's index. */
export interface StreamRequestPlan {
  readonly method: string;
  readonly body?: string | undefined;
  readonly contentType?: string | undefined;
}

/** Where the server's own count of open streams is read (leak detection). */
export interface ServerStatsPlan {
  readonly url: string;
  /** Prometheus metric (with labels), JSON path, or status-page key. */
  readonly metric: string;
  readonly format?: StatsFormat | undefined;
  /** Credentials of their own (`serverStats.auth`, `--server-stats-token`); default: the streams' when on their origin. */
  readonly auth?: AuthPlan | undefined;
  /** Extra headers for the stats reads (`--server-stats-header`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** The publish load. */
export interface PublishPlan {
  /** Producer URL (http(s), redis, amqp); a path starting with `/` is relative to the target. */
  readonly producer: string;
  /** Events per second, open model. */
  readonly rate: number;
  /** Body template with `{{nonce}}` for correlation. */
  readonly body: string;
  readonly method?: string | undefined;
  readonly auth?: AuthPlan | undefined;
  /** An event not seen this long after its scheduled time is lost, ms. */
  readonly timeoutMs: number;
  /** Stream paths whose clients receive the published events (default: every stream). */
  readonly expectAt?: readonly string[] | undefined;
  /** Event types not matched to published events (snapshots like §4's `initial` repeat them). */
  readonly ignoreEventTypes?: readonly string[] | undefined;
}

/** A fully validated bench plan. Durations in ms. */
export interface BenchPlan {
  readonly name: string;
  readonly description?: string | undefined;
  /** Base URL: `http://127.0.0.1:8787`. */
  readonly target: string;
  /** Stream paths (or absolute URLs); clients are spread over them round-robin. */
  readonly streams: readonly string[];
  /** Per stream (same order): a method and body other than a plain GET (LLM-style POST streams). */
  readonly streamRequests?: readonly (StreamRequestPlan | undefined)[] | undefined;
  readonly auth?: AuthPlan | undefined;
  readonly clients: number;
  readonly rampUpMs: number;
  readonly durationMs: number;
  /** Fraction of clients churned per second (0 = none). */
  readonly churnRate: number;
  readonly churnMode: ChurnMode;
  readonly publish?: PublishPlan | undefined;
  /** No byte for this long means a stalled stream (0 = off). */
  readonly heartbeatTimeoutMs: number;
  readonly serverStats?: ServerStatsPlan | undefined;
  readonly thresholds: readonly string[];
  /** After the run: how long to wait for the server's count to settle. */
  readonly leakGraceMs: number;
  readonly maxEventBytes: number;
  readonly connectTimeoutMs: number;
}

/**
 * The thresholds used when neither the scenario nor a flag gives any: the seeds' 500 ms target
 * and no loss when events are published, no leak when the server's count is read. (A threshold
 * on a figure with no samples fails, so defaults only name figures the run measures.)
 */
export function defaultThresholds(hasPublish: boolean, hasServerStats: boolean): string[] {
  return [...(hasPublish ? ['p99<500ms', 'loss==0'] : []), ...(hasServerStats ? ['leaks==0'] : []), 'errors<5%'];
}

/** Flag overrides, already parsed by the CLI; undefined = keep the file's value. */
export interface PlanOverrides {
  readonly target?: string | undefined;
  readonly streams?: readonly string[] | undefined;
  /** With `streams` from flags (a URL argument): its method and body (`--method`, `--data`). */
  readonly streamRequest?: StreamRequestPlan | undefined;
  readonly clients?: number | undefined;
  readonly rampUpMs?: number | undefined;
  readonly durationMs?: number | undefined;
  readonly churnRate?: number | undefined;
  readonly churnMode?: ChurnMode | undefined;
  readonly producer?: string | undefined;
  readonly rate?: number | undefined;
  readonly body?: string | undefined;
  readonly serverStatsUrl?: string | undefined;
  readonly serverMetric?: string | undefined;
  readonly serverStatsAuth?: AuthPlan | undefined;
  readonly serverStatsHeaders?: Readonly<Record<string, string>> | undefined;
  readonly ignoreEventTypes?: readonly string[] | undefined;
  /** The lag guard's limit (`--max-self-lag`), ms; default 50. */
  readonly maxSelfLagMs?: number | undefined;
  /** Looks up an environment variable (`tokenEnv`, `jwtSecretEnv`); the CLI passes its environment. */
  readonly env?: ((name: string) => string | undefined) | undefined;
  readonly thresholds?: readonly string[] | undefined;
  readonly auth?: AuthPlan | undefined;
  readonly heartbeatTimeoutMs?: number | undefined;
  readonly leakGraceMs?: number | undefined;
  readonly connectTimeoutMs?: number | undefined;
}

/** Reads and parses a scenario file (YAML or JSON) into a raw object. */
export async function readScenarioFile(path: string): Promise<{ raw: Record<string, unknown>; text: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`scenario: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
  let raw: unknown;
  try {
    // logLevel 'error': YAML warnings would otherwise go to stderr as raw code frames.
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text, { logLevel: 'error', prettyErrors: false });
  } catch (error) {
    const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '').replace(/:\s*$/, '') : String(error);
    throw new UsageError(`${basename(path)}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${detail}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${basename(path)}: the scenario must be a mapping of fields`);
  return { raw: raw as Record<string, unknown>, text };
}

const PUBLISH_FIELDS = new Set(['producer', 'rate', 'body', 'method', 'auth', 'timeout', 'expectAt', 'ignoreEventTypes']);
const TOP_LEVEL = new Set(['name', 'description', 'target', 'streams', 'auth', 'clients', 'duration', 'churn', 'publish', 'heartbeat', 'serverStats', 'thresholds', 'leak', 'maxEventSize', 'connectTimeout']);

/**
 * Validates a raw scenario with overrides applied; throws one `UsageError` listing every
 * problem. `source` names the file in messages.
 */
export function buildPlan(raw: Readonly<Record<string, unknown>>, overrides: PlanOverrides, source: string): BenchPlan {
  const fields = createFieldReader(source, sectionsFromFlags(source, overrides), overrides.env ?? (() => undefined));
  for (const key of Object.keys(raw)) if (!TOP_LEVEL.has(key)) fields.problem(key, `is not a scenario field (known: ${[...TOP_LEVEL].join(', ')})`);
  const target = readTarget(raw, overrides, fields);
  const { streams, streamRequests } = readStreams(raw, overrides, fields);
  const clients = readClients(raw, overrides, fields);
  const durationMs = overrides.durationMs ?? fields.duration(raw['duration'], 'duration', 60_000);
  if (durationMs <= 0) fields.problem('duration', 'must be longer than 0');
  const publish = readPublish(raw, overrides, streams, fields);
  const serverStats = readServerStats(raw, overrides, fields);
  const chosen = readThresholds(raw, overrides, defaultThresholds(publish !== undefined, serverStats !== undefined), fields);
  const thresholds = fields.hasProblems() ? chosen : withGuardThresholds(chosen, { hasServerStats: serverStats !== undefined, maxSelfLagMs: overrides.maxSelfLagMs });
  const plan: BenchPlan = {
    name: fields.str(raw['name'], 'name') ?? source.replace(/\.(ya?ml|json)$/, ''),
    description: fields.str(raw['description'], 'description'),
    target,
    streams,
    ...(streamRequests.some((r) => r !== undefined) ? { streamRequests } : {}),
    auth: overrides.auth ?? fields.auth(raw['auth'], 'auth'),
    ...clients,
    durationMs,
    ...readChurn(raw, overrides, fields),
    publish,
    heartbeatTimeoutMs: overrides.heartbeatTimeoutMs ?? fields.duration(fields.mapping(raw['heartbeat'], 'heartbeat')?.['timeout'], 'heartbeat.timeout', 0),
    serverStats,
    thresholds,
    leakGraceMs: overrides.leakGraceMs ?? fields.duration(fields.mapping(raw['leak'], 'leak')?.['grace'], 'leak.grace', 5_000),
    maxEventBytes: readMaxEventBytes(raw, fields),
    connectTimeoutMs: overrides.connectTimeoutMs ?? fields.duration(raw['connectTimeout'], 'connectTimeout', 10_000),
  };
  fields.throwIfAny();
  return plan;
}

/**
 * Reads typed fields of a raw scenario, collecting every problem as `<file>: <field> <what is
 * wrong>` instead of stopping at the first; readers return a fallback so reading can go on.
 */
interface FieldReader {
  problem(field: string, what: string): void;
  str(value: unknown, field: string, isRequired?: boolean): string | undefined;
  /** A number is seconds (scenario files); a string is a duration such as `500ms`. */
  duration(value: unknown, field: string, fallbackMs: number): number;
  positiveInt(value: unknown, field: string, fallback: number): number;
  mapping(value: unknown, field: string): Record<string, unknown> | undefined;
  stringList(value: unknown, field: string): string[] | undefined;
  auth(value: unknown, field: string): AuthPlan | undefined;
  /** A secret named by an environment variable (`tokenEnv: SSEKIT_TOKEN`): scenario files need not hold secrets. */
  fromEnv(value: unknown, field: string): string | undefined;
  hasProblems(): boolean;
  throwIfAny(): void;
}

/** The flag that sets a field, so a problem with a value from the command line names the flag, not the field. */
const FLAG_FOR_FIELD: Readonly<Record<string, string>> = {
  target: '--target',
  'clients.count': '--clients',
  'clients.rampUp': '--ramp',
  duration: '--duration',
  'churn.rate': '--churn',
  'churn.mode': '--churn-mode',
  'publish.producer': '--publish',
  'publish.rate': '--rate',
  'publish.body': '--body',
  'serverStats.url': '--server-stats',
  'serverStats.metric': '--server-metric',
  'heartbeat.timeout': '--heartbeat-timeout',
  'leak.grace': '--leak-grace',
  'publish.ignoreEventTypes': '--ignore-event',
};

/** Which sections' values came from flags: all of them without a scenario file, else those a flag opened. */
function sectionsFromFlags(source: string, overrides: PlanOverrides): ReadonlySet<string> {
  if (source === 'flags') return new Set(Object.keys(FLAG_FOR_FIELD).map((field) => field.split('.')[0] as string));
  return new Set([...(overrides.producer === undefined && overrides.ignoreEventTypes === undefined ? [] : ['publish']), ...(overrides.serverStatsUrl === undefined ? [] : ['serverStats'])]);
}

function createFieldReader(source: string, flagSections: ReadonlySet<string>, env: (name: string) => string | undefined): FieldReader {
  const problems: string[] = [];
  const reader: FieldReader = {
    problem(field, what) {
      const flag = FLAG_FOR_FIELD[field];
      problems.push(flag !== undefined && flagSections.has(field.split('.')[0] as string) ? `${flag} ${what}` : `${source}: ${field} ${what}`);
    },
    str(value, field, isRequired = false) {
      if (value === undefined || value === null) {
        if (isRequired) reader.problem(field, 'is required');
        return undefined;
      }
      if (typeof value !== 'string' || value.trim() === '') {
        reader.problem(field, 'must be a non-empty string');
        return undefined;
      }
      return value;
    },
    duration(value, field, fallbackMs) {
      if (value === undefined || value === null) return fallbackMs;
      if (typeof value === 'number' && value >= 0) return value * 1000;
      if (typeof value === 'string') {
        try {
          return parseDuration(value, field);
        } catch {
          reader.problem(field, `must be a duration such as 500ms, 30s, 2m (got ${JSON.stringify(value)})`);
          return fallbackMs;
        }
      }
      reader.problem(field, 'must be a duration such as 500ms, 30s, 2m');
      return fallbackMs;
    },
    positiveInt(value, field, fallback) {
      if (value === undefined || value === null) return fallback;
      if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
        reader.problem(field, 'must be a positive integer');
        return fallback;
      }
      return value;
    },
    mapping(value, field) {
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'object' || Array.isArray(value)) {
        reader.problem(field, 'must be a mapping');
        return undefined;
      }
      return value as Record<string, unknown>;
    },
    stringList(value, field) {
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        reader.problem(field, 'must be a list of strings');
        return undefined;
      }
      return value as string[];
    },
    auth(value, field) {
      const m = reader.mapping(value, field);
      if (m === undefined) return undefined;
      for (const key of Object.keys(m)) if (!AUTH_FIELDS.includes(key)) reader.problem(`${field}.${key}`, `is not an auth field (${AUTH_FIELDS.join(', ')})`);
      const claims = reader.mapping(m['claims'], `${field}.claims`);
      const token = reader.str(m['token'], `${field}.token`) ?? reader.fromEnv(m['tokenEnv'], `${field}.tokenEnv`);
      const jwtSecret = reader.str(m['jwtSecret'], `${field}.jwtSecret`) ?? reader.fromEnv(m['jwtSecretEnv'], `${field}.jwtSecretEnv`);
      if (token !== undefined && (jwtSecret !== undefined || claims !== undefined)) reader.problem(field, 'gives both a token and JWT claims: pick one');
      return { token, jwtSecret, claims, ttlMs: m['ttl'] === undefined ? undefined : reader.duration(m['ttl'], `${field}.ttl`, 3_600_000), queryName: reader.str(m['query'], `${field}.query`) };
    },
    fromEnv(value, field) {
      const name = reader.str(value, field);
      if (name === undefined) return undefined;
      const secret = env(name);
      if (secret === undefined || secret === '') reader.problem(field, `names ${name}, which is not set in the environment`);
      registerSecret(secret);
      return secret === '' ? undefined : secret;
    },
    hasProblems: () => problems.length > 0,
    throwIfAny() {
      if (problems.length === 0) return;
      throw new UsageError(problems.length === 1 ? (problems[0] as string) : `${problems.length} problems in the scenario:\n  ${problems.join('\n  ')}`);
    },
  };
  return reader;
}

const AUTH_FIELDS = ['token', 'tokenEnv', 'jwtSecret', 'jwtSecretEnv', 'claims', 'ttl', 'query'];

function readTarget(raw: Readonly<Record<string, unknown>>, overrides: PlanOverrides, fields: FieldReader): string {
  const target = overrides.target ?? fields.str(raw['target'], 'target', true) ?? '';
  if (target === '') return target;
  try {
    const url = new URL(target);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') fields.problem('target', 'must be an http(s) URL');
  } catch {
    fields.problem('target', `must be a URL such as http://127.0.0.1:8787 (got ${JSON.stringify(target)})`);
  }
  return target;
}

function readStreams(raw: Readonly<Record<string, unknown>>, overrides: PlanOverrides, fields: FieldReader): { streams: string[]; streamRequests: (StreamRequestPlan | undefined)[] } {
  if (overrides.streams !== undefined) return { streams: [...overrides.streams], streamRequests: overrides.streams.map(() => overrides.streamRequest) };
  const list = raw['streams'];
  if (!Array.isArray(list) || list.length === 0) {
    fields.problem('streams', 'must list at least one stream path');
    return { streams: [], streamRequests: [] };
  }
  const streams: string[] = [];
  const streamRequests: (StreamRequestPlan | undefined)[] = [];
  list.forEach((entry: unknown, i) => {
    const m = typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? (entry as Record<string, unknown>) : undefined;
    const path = typeof entry === 'string' ? entry : m?.['path'];
    if (typeof path !== 'string' || path === '') {
      fields.problem(`streams[${i}]`, 'must be a path such as /api/admin/events (or {path: ...})');
      return;
    }
    streams.push(path);
    streamRequests.push(m === undefined ? overrides.streamRequest : readStreamRequest(m, `streams[${i}]`, fields));
  });
  return { streams, streamRequests };
}

const STREAM_FIELDS = ['path', 'method', 'body', 'contentType'];

/** A stream's `method`, `body` (a string, or an object sent as JSON; `{{vu}}` filled per client) and `contentType`. */
function readStreamRequest(m: Readonly<Record<string, unknown>>, field: string, fields: FieldReader): StreamRequestPlan | undefined {
  for (const key of Object.keys(m)) if (!STREAM_FIELDS.includes(key)) fields.problem(`${field}.${key}`, `is not a stream field (${STREAM_FIELDS.join(', ')})`);
  const rawBody = m['body'];
  const body = rawBody !== null && typeof rawBody === 'object' ? JSON.stringify(rawBody) : fields.str(rawBody, `${field}.body`);
  const method = fields.str(m['method'], `${field}.method`)?.toUpperCase();
  if (method === undefined && body === undefined) return undefined;
  const contentType = fields.str(m['contentType'], `${field}.contentType`) ?? (body === undefined ? undefined : defaultContentTypeFor(body.split('{{vu}}').join('0')));
  return { method: method ?? 'POST', body, contentType };
}


function readClients(raw: Readonly<Record<string, unknown>>, overrides: PlanOverrides, fields: FieldReader): Pick<BenchPlan, 'clients' | 'rampUpMs'> {
  const clientsRaw = raw['clients'];
  const clientsMap = typeof clientsRaw === 'number' ? { count: clientsRaw } : fields.mapping(clientsRaw, 'clients');
  if (clientsMap !== undefined && clientsMap['count'] === undefined && overrides.clients === undefined) fields.problem('clients.count', 'is required');
  return {
    clients: overrides.clients ?? fields.positiveInt(clientsMap?.['count'], 'clients.count', 10),
    rampUpMs: overrides.rampUpMs ?? fields.duration(clientsMap?.['rampUp'], 'clients.rampUp', 0),
  };
}

function readChurn(raw: Readonly<Record<string, unknown>>, overrides: PlanOverrides, fields: FieldReader): Pick<BenchPlan, 'churnRate' | 'churnMode'> {
  const churn = fields.mapping(raw['churn'], 'churn');
  let churnRate = overrides.churnRate ?? 0;
  if (overrides.churnRate === undefined && churn?.['rate'] !== undefined) {
    if (typeof churn['rate'] !== 'number' || churn['rate'] < 0 || churn['rate'] > 1) fields.problem('churn.rate', 'must be a fraction of clients per second between 0 and 1');
    else churnRate = churn['rate'];
  }
  let churnMode: ChurnMode = overrides.churnMode ?? 'graceful';
  if (overrides.churnMode === undefined && churn?.['mode'] !== undefined) {
    if (!CHURN_MODES.includes(churn['mode'] as ChurnMode)) fields.problem('churn.mode', `must be one of ${CHURN_MODES.join(', ')}`);
    else churnMode = churn['mode'] as ChurnMode;
  }
  return { churnRate, churnMode };
}

function readPublish(raw: Readonly<Record<string, unknown>>, overrides: PlanOverrides, streams: readonly string[], fields: FieldReader): PublishPlan | undefined {
  const publishRaw = fields.mapping(raw['publish'], 'publish');
  for (const key of Object.keys(publishRaw ?? {})) if (!PUBLISH_FIELDS.has(key)) fields.problem(`publish.${key}`, `is not a publish field (known: ${[...PUBLISH_FIELDS].join(', ')})`);
  const producer = overrides.producer ?? fields.str(publishRaw?.['producer'], 'publish.producer', publishRaw !== undefined);
  if (producer === undefined) {
    if (overrides.ignoreEventTypes !== undefined) fields.problem('publish.ignoreEventTypes', 'needs a publish load (--publish, or publish: in the scenario): only published events are matched');
    return undefined;
  }
  let rate = overrides.rate ?? 1;
  if (overrides.rate === undefined && publishRaw?.['rate'] !== undefined) {
    if (typeof publishRaw['rate'] !== 'number' || publishRaw['rate'] <= 0) fields.problem('publish.rate', 'must be a positive number of events per second');
    else rate = publishRaw['rate'];
  }
  let body = overrides.body ?? fields.str(publishRaw?.['body'], 'publish.body');
  if (body === undefined && publishRaw?.['body'] !== undefined && typeof publishRaw['body'] === 'object') body = JSON.stringify(publishRaw['body']);
  // No body: the seed-shaped one `publish` sends for this kind of producer.
  body ??= defaultBodyOrProblem(producer, fields);
  if (!body.includes('{{nonce}}')) fields.problem('publish.body', 'must contain {{nonce}} so deliveries can be matched to events');
  const expectAt = fields.stringList(publishRaw?.['expectAt'], 'publish.expectAt');
  for (const path of expectAt ?? []) if (!streams.includes(path)) fields.problem('publish.expectAt', `names ${path}, which is not in streams`);
  return {
    producer,
    rate,
    body,
    method: fields.str(publishRaw?.['method'], 'publish.method'),
    auth: fields.auth(publishRaw?.['auth'], 'publish.auth'),
    timeoutMs: fields.duration(publishRaw?.['timeout'], 'publish.timeout', 5_000),
    expectAt,
    ignoreEventTypes: overrides.ignoreEventTypes ?? fields.stringList(publishRaw?.['ignoreEventTypes'], 'publish.ignoreEventTypes'),
  };
}

function defaultBodyOrProblem(producer: string, fields: FieldReader): string {
  try {
    return defaultBodyFor(producer);
  } catch (error) {
    fields.problem('publish.producer', error instanceof Error ? error.message.replace(/^producer: /, '') : String(error));
    return '{{nonce}}';
  }
}

function readServerStats(raw: Readonly<Record<string, unknown>>, overrides: PlanOverrides, fields: FieldReader): ServerStatsPlan | undefined {
  const statsRaw = fields.mapping(raw['serverStats'], 'serverStats');
  const url = overrides.serverStatsUrl ?? fields.str(statsRaw?.['url'], 'serverStats.url', statsRaw !== undefined);
  if (url === undefined) return undefined;
  const metric = overrides.serverMetric ?? fields.str(statsRaw?.['metric'], 'serverStats.metric', true);
  const format = statsRaw?.['format'];
  if (format !== undefined && !STATS_FORMATS.includes(format as StatsFormat)) fields.problem('serverStats.format', `must be one of ${STATS_FORMATS.join(', ')}`);
  return { url, metric: metric ?? '', format: format as StatsFormat | undefined, auth: overrides.serverStatsAuth ?? fields.auth(statsRaw?.['auth'], 'serverStats.auth'), headers: overrides.serverStatsHeaders };
}

function readThresholds(raw: Readonly<Record<string, unknown>>, overrides: PlanOverrides, defaults: string[], fields: FieldReader): string[] {
  if (overrides.thresholds !== undefined && overrides.thresholds.length > 0) return [...overrides.thresholds];
  const list = raw['thresholds'];
  if (list === undefined) return defaults;
  if (!Array.isArray(list) || list.some((t) => typeof t !== 'string')) {
    fields.problem('thresholds', "must be a list of expressions such as 'p99<500ms'");
    return defaults;
  }
  (list as string[]).forEach((expression, i) => {
    try {
      parseThreshold(expression, `thresholds[${i}] '${expression}'`);
    } catch (error) {
      fields.problem(`thresholds[${i}]`, error instanceof Error ? error.message.replace(`thresholds[${i}] '${expression}': `, `'${expression}': `) : String(error));
    }
  });
  return list as string[];
}

function readMaxEventBytes(raw: Readonly<Record<string, unknown>>, fields: FieldReader): number {
  const value = raw['maxEventSize'];
  if (value === undefined) return 1024 * 1024;
  if (typeof value !== 'number' || value <= 0) {
    fields.problem('maxEventSize', 'must be a positive number of bytes');
    return 1024 * 1024;
  }
  return value;
}

/** A stable hash of a plan (shards of one run share it; `stats merge` checks it). */
export function hashPlan(plan: BenchPlan): string {
  // Without the target: shards pointed at two workers of one backend are still one run.
  const { target: _target, ...rest } = plan;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

/** Resolves a path or URL against the target base. */
export function resolveAgainst(target: string, pathOrUrl: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pathOrUrl)) return pathOrUrl;
  return new URL(pathOrUrl, target.endsWith("/") ? target : `${target}/`).href;
}
