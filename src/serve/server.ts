/**
 * `startServer`: the reference SSE backend engine (issue 3). Plain `node:http` (no framework
 * on the hot path), one port for every mounted profile, `GET /metrics` in Prometheus text.
 * Used by `ssekit serve`, by tests in process, and later as `ssekit bench`'s embedded target.
 * It prints nothing: logs go to `onLog` as JSON lines, and the CLI decides where they land.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEV_JWT_SECRET } from '../core/dev-jwt.js';
import { UsageError } from '../core/errors.js';
import { createTokenVerifier, extractToken, requireRole, type JwtKeyOptions } from './auth.js';
import { createMemoryBus, createRedisBus, type EventBus } from './bus.js';
import { NO_FAULTS, type FaultSet } from './faults.js';
import { clientIp, HttpError, readJsonObject, sendError, sendJson } from './http.js';
import { createHub, type Hub, type StreamLimitPolicy } from './hub.js';
import { createLogger, type LogWriter } from './log.js';
import { createServeMetrics, type ServeMetrics } from './metrics.js';
import type { Profile, ProfileSettings, Route, RouteMethod, RouteRequest } from './profile.js';
import { PROFILE_FACTORIES, PROFILE_NAMES } from './profiles/index.js';

/** Engine options; every field has the seeds' default. Durations in ms, sizes in bytes. */
export interface ServeOptions {
  /** Interface to bind. Default `127.0.0.1` (loopback only). */
  readonly host?: string;
  /** Port; 0 picks a free one. Default 8787. */
  readonly port?: number;
  /** Profiles to mount. Default: all of `PROFILE_NAMES`. */
  readonly profiles?: readonly string[];
  /** Token verification. Default: HS256 with `DEV_JWT_SECRET`. */
  readonly jwt?: JwtKeyOptions;
  /** Heartbeat, keepalive and ping interval. Default 30 000 (CONTRACTS §1, §3, §4). */
  readonly heartbeatMs?: number;
  /** Close a stream after this long without an event; 0 disables. Default 3 600 000 (§1). */
  readonly inactivityTimeoutMs?: number;
  /** Streams per user; default per profile (admin-orders 1, gateway 5, others unlimited). */
  readonly maxStreamsPerUser?: number;
  /** Over the limit: `reject` (409) or `close-oldest`; default per profile. */
  readonly streamLimitPolicy?: StreamLimitPolicy;
  /** Unsent bytes allowed per stream before the client is disconnected as slow. Default 1 MiB. */
  readonly maxBufferBytes?: number;
  /** Largest producer request body. Default 64 KiB. */
  readonly maxBodyBytes?: number;
  /** `retry:` (ms) written at the start of every stream; default none (the seeds send none). */
  readonly retryMs?: number;
  /** Redis URL for cross-process fan-out; default in-process. */
  readonly redisUrl?: string;
  /** AMQP URL for profiles that relay a broker (gateway). */
  readonly amqpUrl?: string;
  /** Gateway: interval of `source_unavailable` warnings; default 2 × heartbeat (60 s). */
  readonly sourceWarningMs?: number;
  /** Gateway: events kept per channel for replay; default 1000, 0 = off. */
  readonly replayBufferSize?: number;
  /** Fault switches. Default none. */
  readonly faults?: FaultSet;
  /** Receives one redacted JSON log line per record; undefined = no logs. */
  readonly onLog?: LogWriter;
}

/** One mounted route, for banners and `GET /`. */
export interface RouteSummary {
  readonly method: RouteMethod;
  readonly path: string;
  readonly summary: string;
  readonly isStream: boolean;
}

/** A running server. */
export interface ServeHandle {
  /** `http://host:port` with the real port. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly profiles: ReadonlyArray<{ readonly name: string; readonly contract: string; readonly routes: readonly RouteSummary[] }>;
  /** `memory` or `redis`. */
  readonly busKind: EventBus['kind'];
  /** True when tokens are checked with the public dev secret. */
  readonly isDevSecret: boolean;
  readonly metrics: ServeMetrics;
  /** Streams really open now. */
  readonly liveStreams: () => number;
  /** Stops accepting, ends every stream cleanly, closes brokers. Idempotent. */
  readonly close: () => Promise<void>;
}

interface CompiledRoute {
  readonly route: Route;
  readonly segments: readonly string[];
  readonly paramNames: ReadonlyArray<string | undefined>;
}

/** Starts the backend and resolves once it listens. */
export async function startServer(options: ServeOptions = {}): Promise<ServeHandle> {
  const names = options.profiles ?? PROFILE_NAMES;
  for (const name of names) {
    if (!(name in PROFILE_FACTORIES)) throw new UsageError(`unknown profile '${name}'`, { hint: `profiles: ${PROFILE_NAMES.join(', ')}` });
  }
  const log = createLogger(options.onLog);
  const faults = options.faults ?? NO_FAULTS;
  const heartbeatMs = options.heartbeatMs ?? 30_000;
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
  const jwt = options.jwt ?? { secret: DEV_JWT_SECRET };
  const verify = createTokenVerifier(jwt);

  // The gauge reads the hub at scrape time; the hub is created right after the metrics.
  let hubRef: Hub | undefined;
  const metrics = createServeMetrics(() => hubRef?.countByRole() ?? new Map());
  const hub = createHub({
    metrics,
    faults,
    log,
    heartbeatMs,
    inactivityTimeoutMs: options.inactivityTimeoutMs ?? 3_600_000,
    maxBufferBytes: options.maxBufferBytes ?? 1024 * 1024,
    retryMs: options.retryMs,
  });
  hubRef = hub;

  const bus = options.redisUrl === undefined ? createMemoryBus() : await createRedisBus({ url: options.redisUrl, onWarning: (message) => log('warn', message) });
  const settings: ProfileSettings = {
    heartbeatMs,
    maxStreamsPerUser: options.maxStreamsPerUser,
    streamLimitPolicy: options.streamLimitPolicy,
    amqpUrl: options.amqpUrl,
    sourceWarningMs: options.sourceWarningMs,
    replayBufferSize: options.replayBufferSize,
  };
  const profiles: Profile[] = [];
  const router = new Map<string, CompiledRoute[]>();
  try {
    for (const name of names) {
      const factory = PROFILE_FACTORIES[name];
      if (!factory) continue;
      const profile = factory({ hub, bus, metrics, log, settings });
      for (const route of profile.routes) mount(router, route);
      profiles.push(profile);
    }
    for (const profile of profiles) await profile.start?.();
  } catch (error) {
    hub.close();
    await Promise.allSettled(profiles.map((profile) => profile.close?.()));
    await bus.close();
    throw error;
  }

  const index = profiles.map((profile) => ({
    name: profile.name,
    contract: profile.contract,
    routes: profile.routes.map((route) => ({ method: route.method, path: route.path, summary: route.summary, isStream: route.isStream === true })),
  }));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw new HttpError(400, 'bad_url', 'malformed request URL');
    }
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/metrics') {
      const { contentType, body } = await metrics.render();
      res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (method === 'GET' && url.pathname === '/') {
      sendJson(res, 200, { name: 'ssekit serve', profiles: index, metrics: '/metrics', bus: bus.kind });
      return;
    }
    const match = findRoute(router, url.pathname, method);
    const request: RouteRequest = {
      req,
      res,
      url,
      params: match.params,
      ip: clientIp(req),
      authenticate: async (roles) => {
        const token = extractToken(req.headers.authorization, url);
        if (token === undefined) throw new HttpError(401, 'missing_token', 'missing token (Authorization: Bearer or ?token=)', { headers: { 'WWW-Authenticate': 'Bearer' } });
        const principal = await verify(token);
        if (roles !== 'any') requireRole(principal, roles);
        return principal;
      },
      readJson: () => readJsonObject(req, maxBodyBytes),
    };
    await match.route.handle(request);
  };

  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) {
        // An oversized body is not drained: answer, then close the connection.
        if (error.status === 413) res.shouldKeepAlive = false;
        sendError(res, error);
        return;
      }
      log('error', 'request failed', { method: req.method, path: safePath(req.url), error: error instanceof Error ? error.message : String(error) });
      sendError(res, new HttpError(500, 'internal', 'internal error'));
    });
  });
  // Streams live for hours: no request timeout once the headers are in.
  server.requestTimeout = 0;
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\n\r\n{"error":"malformed request","code":"bad_request"}');
    else socket.destroy();
  });

  try {
    await listen(server, options.host ?? '127.0.0.1', options.port ?? 8787);
  } catch (error) {
    hub.close();
    await Promise.allSettled(profiles.map((profile) => profile.close?.()));
    await bus.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${options.port ?? 8787} is already in use on ${options.host ?? '127.0.0.1'}`, { hint: 'pick another --port, or --port 0 for a free one' });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on host '${options.host ?? ''}'`, { cause: error });
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  log('info', 'listening', { url, profiles: names, bus: bus.kind });

  let closing: Promise<void> | undefined;
  return {
    url,
    host: address.address,
    port: address.port,
    profiles: index,
    busKind: bus.kind,
    isDevSecret: 'secret' in jwt && jwt.secret === DEV_JWT_SECRET,
    metrics,
    liveStreams: hub.liveCount,
    close: () => {
      closing ??= shutdown(server, hub, profiles, bus, log);
      return closing;
    },
  };
}

async function shutdown(server: Server, hub: Hub, profiles: readonly Profile[], bus: EventBus, log: ReturnType<typeof createLogger>): Promise<void> {
  // Stop accepting first, then end streams with their chunked terminator (a clean end for clients).
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  hub.close();
  server.closeIdleConnections();
  await Promise.allSettled(profiles.map((profile) => profile.close?.()));
  await bus.close();
  // Clients that do not hang up after the end of their stream are cut after a grace period.
  const grace = setTimeout(() => server.closeAllConnections(), 2000);
  grace.unref();
  await closed;
  clearTimeout(grace);
  log('info', 'stopped');
}

function mount(router: Map<string, CompiledRoute[]>, route: Route): void {
  const segments = route.path.split('/');
  const paramNames = segments.map((segment) => (/^\{(\w+)\}$/.exec(segment)?.[1]));
  const key = `${segments.length}`;
  const list = router.get(key) ?? [];
  for (const other of list) {
    if (other.route.method === route.method && other.segments.join('/') === segments.join('/')) throw new Error(`route mounted twice: ${route.method} ${route.path}`);
  }
  list.push({ route, segments, paramNames });
  // Exact routes win over parameterised ones (`/admin/orders/sse` before `/admin/orders/{id}`).
  list.sort((a, b) => a.paramNames.filter(Boolean).length - b.paramNames.filter(Boolean).length);
  router.set(key, list);
}

function findRoute(router: Map<string, CompiledRoute[]>, pathname: string, method: string): { route: Route; params: Record<string, string> } {
  const parts = pathname.split('/');
  const candidates = router.get(`${parts.length}`) ?? [];
  const allowed = new Set<string>();
  for (const candidate of candidates) {
    const params: Record<string, string> = {};
    let isMatch = true;
    for (let index = 0; index < parts.length; index += 1) {
      const name = candidate.paramNames[index];
      const part = parts[index] ?? '';
      if (name !== undefined) {
        if (part === '') {
          isMatch = false;
          break;
        }
        try {
          params[name] = decodeURIComponent(part);
        } catch {
          isMatch = false;
          break;
        }
      } else if (part !== candidate.segments[index]) {
        isMatch = false;
        break;
      }
    }
    if (!isMatch) continue;
    if (candidate.route.method === method) return { route: candidate.route, params };
    allowed.add(candidate.route.method);
  }
  if (allowed.size > 0) throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${pathname}`, { headers: { Allow: [...allowed].join(', ') } });
  throw new HttpError(404, 'not_found', `no route for ${pathname}`);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    // A large backlog: bench ramps thousands of connections at once.
    server.listen({ host, port, backlog: 4096 }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** A request path for logs: never the query string (it may carry `?token=`). */
function safePath(url: string | undefined): string {
  return (url ?? '').split('?')[0] ?? '';
}
