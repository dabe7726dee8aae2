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
import { parseDuration } from '../core/duration.js';
import { parseThreshold } from '../metrics/thresholds.js';
import { STATS_FORMATS, type StatsFormat } from '../server-stats/types.js';

/** How a churning client leaves and comes back: FIN, RST, a new token, or a second stream beside the first (seed 001). */
export const CHURN_MODES = ['graceful', 'abrupt', 'token-rotation', 'duplicate'] as const;
export type ChurnMode = (typeof CHURN_MODES)[number];

/** Auth for virtual users or the publisher: a fixed token, or a JWT minted per user. */
export interface AuthPlan {
  /** A fixed bearer token (every user shares it). */
  readonly token?: string | undefined;
  /** HS256 secret for minted tokens. */
  readonly jwtSecret?: string | undefined;
  /** Or a PEM private key (RS256/ES256/EdDSA), from `--jwt-key`. */
  readonly privateKeyPem?: string | undefined;
  /** Claims; string values may use `{{vu}}` (the virtual user's index). */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
  /** Token lifetime, ms (default 1 h). */
  readonly ttlMs?: number | undefined;
  /** Query parameter name, when the token goes in the URL instead of `Authorization`. */
  readonly queryName?: string | undefined;
}

/** Where the server's own count of open streams is read (leak detection). */
export interface ServerStatsPlan {
  readonly url: string;
  /** Prometheus metric (with labels), JSON path, or status-page key. */
  readonly metric: string;
  readonly format?: StatsFormat | undefined;
  readonly auth?: AuthPlan | undefined;
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
  const problems: string[] = [];
  const at = (field: string, what: string): void => void problems.push(`${source}: ${field} ${what}`);

  for (const key of Object.keys(raw)) if (!TOP_LEVEL.has(key)) at(key, `is not a scenario field (known: ${[...TOP_LEVEL].join(', ')})`);

  const str = (value: unknown, field: string, required = false): string | undefined => {
    if (value === undefined || value === null) {
      if (required) at(field, 'is required');
      return undefined;
    }
    if (typeof value !== 'string' || value.trim() === '') {
      at(field, 'must be a non-empty string');
      return undefined;
    }
    return value;
  };
  const duration = (value: unknown, field: string, fallback: number): number => {
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'number' && value >= 0) return value * 1000;
    if (typeof value === 'string') {
      try {
        return parseDuration(value, field);
      } catch {
        at(field, `must be a duration such as 500ms, 30s, 2m (got ${JSON.stringify(value)})`);
        return fallback;
      }
    }
    at(field, 'must be a duration such as 500ms, 30s, 2m');
    return fallback;
  };
  const positiveInt = (value: unknown, field: string, fallback: number): number => {
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
      at(field, 'must be a positive integer');
      return fallback;
    }
    return value;
  };
  const mapping = (value: unknown, field: string): Record<string, unknown> | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'object' || Array.isArray(value)) {
      at(field, 'must be a mapping');
      return undefined;
    }
    return value as Record<string, unknown>;
  };
  const auth = (value: unknown, field: string): AuthPlan | undefined => {
    const m = mapping(value, field);
    if (m === undefined) return undefined;
    for (const key of Object.keys(m)) if (!['token', 'jwtSecret', 'claims', 'ttl', 'query'].includes(key)) at(`${field}.${key}`, 'is not an auth field (token, jwtSecret, claims, ttl, query)');
    const claims = mapping(m['claims'], `${field}.claims`);
    const token = str(m['token'], `${field}.token`);
    const jwtSecret = str(m['jwtSecret'], `${field}.jwtSecret`);
    if (token !== undefined && (jwtSecret !== undefined || claims !== undefined)) at(field, 'gives both a token and JWT claims: pick one');
    return {
      token,
      jwtSecret,
      claims,
      ttlMs: m['ttl'] === undefined ? undefined : duration(m['ttl'], `${field}.ttl`, 3_600_000),
      queryName: str(m['query'], `${field}.query`),
    };
  };

  const name = str(raw['name'], 'name') ?? source.replace(/\.(ya?ml|json)$/, '');
  const target = overrides.target ?? str(raw['target'], 'target', true) ?? '';
  if (target !== '') {
    try {
      const url = new URL(target);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') at('target', 'must be an http(s) URL');
    } catch {
      at('target', `must be a URL such as http://127.0.0.1:8787 (got ${JSON.stringify(target)})`);
    }
  }

  let streams: string[] = [];
  if (overrides.streams !== undefined) streams = [...overrides.streams];
  else if (Array.isArray(raw['streams']) && raw['streams'].length > 0) {
    raw['streams'].forEach((entry, i) => {
      const path = typeof entry === 'string' ? entry : typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)['path'] : undefined;
      if (typeof path !== 'string' || path === '') at(`streams[${i}]`, 'must be a path such as /api/admin/events (or {path: ...})');
      else streams.push(path);
    });
  } else at('streams', 'must list at least one stream path');

  const clientsRaw = raw['clients'];
  const clientsMap = typeof clientsRaw === 'number' ? { count: clientsRaw } : mapping(clientsRaw, 'clients');
  const clients = overrides.clients ?? positiveInt(clientsMap?.['count'], 'clients.count', 10);
  if (clientsMap !== undefined && clientsMap['count'] === undefined && overrides.clients === undefined) at('clients.count', 'is required');
  const rampUpMs = overrides.rampUpMs ?? duration(clientsMap?.['rampUp'], 'clients.rampUp', 0);
  const durationMs = overrides.durationMs ?? duration(raw['duration'], 'duration', 60_000);
  if (durationMs <= 0) at('duration', 'must be longer than 0');

  const churn = mapping(raw['churn'], 'churn');
  let churnRate = overrides.churnRate ?? 0;
  if (overrides.churnRate === undefined && churn?.['rate'] !== undefined) {
    if (typeof churn['rate'] !== 'number' || churn['rate'] < 0 || churn['rate'] > 1) at('churn.rate', 'must be a fraction of clients per second between 0 and 1');
    else churnRate = churn['rate'];
  }
  let churnMode: ChurnMode = overrides.churnMode ?? 'graceful';
  if (overrides.churnMode === undefined && churn?.['mode'] !== undefined) {
    if (!CHURN_MODES.includes(churn['mode'] as ChurnMode)) at('churn.mode', `must be one of ${CHURN_MODES.join(', ')}`);
    else churnMode = churn['mode'] as ChurnMode;
  }

  let publish: PublishPlan | undefined;
  const publishRaw = mapping(raw['publish'], 'publish');
  for (const key of Object.keys(publishRaw ?? {})) if (!PUBLISH_FIELDS.has(key)) at(`publish.${key}`, `is not a publish field (known: ${[...PUBLISH_FIELDS].join(', ')})`);
  const producer = overrides.producer ?? str(publishRaw?.['producer'], 'publish.producer', publishRaw !== undefined);
  if (producer !== undefined) {
    let rate = overrides.rate ?? 1;
    if (overrides.rate === undefined && publishRaw?.['rate'] !== undefined) {
      if (typeof publishRaw['rate'] !== 'number' || publishRaw['rate'] <= 0) at('publish.rate', 'must be a positive number of events per second');
      else rate = publishRaw['rate'];
    }
    let body = overrides.body ?? str(publishRaw?.['body'], 'publish.body');
    if (body === undefined && publishRaw?.['body'] !== undefined && typeof publishRaw['body'] === 'object') body = JSON.stringify(publishRaw['body']);
    if (body === undefined) at('publish.body', 'is required (a template with {{nonce}})');
    else if (!body.includes('{{nonce}}')) at('publish.body', 'must contain {{nonce}} so deliveries can be matched to events');
    publish = {
      producer,
      rate,
      body: body ?? '',
      method: str(publishRaw?.['method'], 'publish.method'),
      auth: auth(publishRaw?.['auth'], 'publish.auth'),
      timeoutMs: duration(publishRaw?.['timeout'], 'publish.timeout', 5_000),
      expectAt: expectAtOf(publishRaw?.['expectAt']),
      ignoreEventTypes: stringList(publishRaw?.['ignoreEventTypes'], 'publish.ignoreEventTypes'),
    };
  }

  function stringList(value: unknown, field: string): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      at(field, 'must be a list of strings');
      return undefined;
    }
    return value as string[];
  }

  function expectAtOf(value: unknown): string[] | undefined {
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
      at('publish.expectAt', 'must be a list of stream paths');
      return undefined;
    }
    for (const path of value as string[]) if (!streams.includes(path)) at('publish.expectAt', `names ${path}, which is not in streams`);
    return value as string[];
  }

  const heartbeat = mapping(raw['heartbeat'], 'heartbeat');
  const heartbeatTimeoutMs = overrides.heartbeatTimeoutMs ?? duration(heartbeat?.['timeout'], 'heartbeat.timeout', 0);

  let serverStats: ServerStatsPlan | undefined;
  const statsRaw = mapping(raw['serverStats'], 'serverStats');
  const statsUrl = overrides.serverStatsUrl ?? str(statsRaw?.['url'], 'serverStats.url', statsRaw !== undefined);
  if (statsUrl !== undefined) {
    const metric = overrides.serverMetric ?? str(statsRaw?.['metric'], 'serverStats.metric', true);
    const format = statsRaw?.['format'];
    if (format !== undefined && !STATS_FORMATS.includes(format as StatsFormat)) at('serverStats.format', `must be one of ${STATS_FORMATS.join(', ')}`);
    serverStats = { url: statsUrl, metric: metric ?? '', format: format as ServerStatsPlan['format'], auth: auth(statsRaw?.['auth'], 'serverStats.auth') };
  }

  let thresholds: string[] = defaultThresholds(producer !== undefined, statsUrl !== undefined);
  if (overrides.thresholds !== undefined && overrides.thresholds.length > 0) thresholds = [...overrides.thresholds];
  else if (raw['thresholds'] !== undefined) {
    if (!Array.isArray(raw['thresholds']) || raw['thresholds'].some((t) => typeof t !== 'string')) at('thresholds', "must be a list of expressions such as 'p99<500ms'");
    else {
      thresholds = raw['thresholds'] as string[];
      thresholds.forEach((expression, i) => {
        try {
          parseThreshold(expression, `thresholds[${i}] '${expression}'`);
        } catch (error) {
          problems.push(`${source}: ${error instanceof Error ? error.message : String(error)}`);
        }
      });
    }
  }

  const leak = mapping(raw['leak'], 'leak');
  const leakGraceMs = overrides.leakGraceMs ?? duration(leak?.['grace'], 'leak.grace', 5_000);
  let maxEventBytes = 1024 * 1024;
  if (raw['maxEventSize'] !== undefined) {
    if (typeof raw['maxEventSize'] !== 'number' || raw['maxEventSize'] <= 0) at('maxEventSize', 'must be a positive number of bytes');
    else maxEventBytes = raw['maxEventSize'];
  }
  const connectTimeoutMs = overrides.connectTimeoutMs ?? duration(raw['connectTimeout'], 'connectTimeout', 10_000);

  const planAuth = overrides.auth ?? auth(raw['auth'], 'auth');
  if (problems.length > 0) {
    throw new UsageError(problems.length === 1 ? (problems[0] as string) : `${problems.length} problems in the scenario:\n  ${problems.join('\n  ')}`);
  }
  return {
    name,
    description: str(raw['description'], 'description'),
    target,
    streams,
    auth: planAuth,
    clients,
    rampUpMs,
    durationMs,
    churnRate,
    churnMode,
    publish,
    heartbeatTimeoutMs,
    serverStats,
    thresholds,
    leakGraceMs,
    maxEventBytes,
    connectTimeoutMs,
  };
}

/** A stable hash of a plan (shards of one run share it; `stats merge` checks it). */
export function hashPlan(plan: BenchPlan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 16);
}

/** Resolves a path or URL against the target base. */
export function resolveAgainst(target: string, pathOrUrl: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(pathOrUrl)) return pathOrUrl;
  return new URL(pathOrUrl, target.endsWith("/") ? target : `${target}/`).href;
}
