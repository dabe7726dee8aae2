/**
 * `startServer`: the reference SSE backend engine (issue 3). Plain `node:http` (no framework
 * on the hot path), one port for every mounted profile, `GET /metrics` in Prometheus text.
 * Used by `ssekit serve`, by tests in process, and as `ssekit bench`'s embedded target.
 * It prints nothing: logs go to `onLog` as JSON lines, and the CLI decides where they land.
 *
 * Start-up is a list of phases: the shared core (metrics, hub, bus), the profiles and their
 * routes, the HTTP server, listening. Whatever fails after the core exists is undone by one
 * `closeCore`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DEV_JWT_SECRET } from '../core/dev-jwt.js';
import { UsageError } from '../core/errors.js';
import { createTokenVerifier, extractToken, requireRole, type JwtKeyOptions, type TokenVerifier } from './auth.js';
import { createMemoryBus, createRedisBus, type EventBus } from './bus.js';
import { NO_FAULTS, type FaultSet } from './faults.js';
import { ConnectionGate } from './connection-gate.js';
import { clientIp, HttpError, readJsonObject, sendError, sendJson } from './http.js';
import { createHub, type Hub } from './hub.js';
import type { StreamLimitPolicy } from './hub-stream.js';
import { createLogger, type LogWriter, type ServeLogger } from './log.js';
import { createServeMetrics, type ServeMetrics } from './metrics.js';
import type { Profile, ProfileContext, ProfileSettings, RouteMethod, RouteRequest, StreamOpener } from './profile.js';
import { PROFILE_FACTORIES } from './profiles/index.js';
import { isProfileName, PROFILE_NAMES } from './profile-names.js';
import { createRouter, parseRequestTarget, type Router } from './router.js';
import { createClusterLimiter } from './cluster/cluster-limiter.js';
import { renderWorkerMetrics } from './cluster/cluster-metrics.js';
import { createClusterPeers } from './cluster/cluster-peers.js';
import { createPrimaryBus } from './cluster/primary-bus.js';
import type { WorkerLink } from './cluster/worker-link.js';
import { createSoloPeers, type ServePeers } from './peers.js';

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
  /** Accept JWTs without `exp`. Default false: such tokens are refused with 401 `token_no_exp`. */
  readonly allowNoExp?: boolean;
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
  /** A request's headers must arrive within this, else 408 and the connection is closed. Default 10 000. */
  readonly headerTimeoutMs?: number;
  /** A producer's body must arrive within this once its headers are in, else 408. Default 10 000. */
  readonly bodyTimeoutMs?: number;
  /** TCP connections served at once; beyond, 503 `server_full` with `Retry-After`. Default no limit. */
  readonly maxConnections?: number;
  /** `retry:` (ms) written at the start of every stream; default none (the seeds send none). */
  readonly retryMs?: number;
  /** Redis URL for cross-process fan-out; default in-process. */
  readonly redisUrl?: string;
  /** AMQP URL for profiles that relay a broker (gateway). */
  readonly amqpUrl?: string;
  /** `--workers`: name prefix of the AMQP queues the workers of one server share (one consumer per message). */
  readonly amqpQueuePrefix?: string;
  /** Gateway: interval of `source_unavailable` warnings; default 2 × heartbeat (60 s). */
  readonly sourceWarningMs?: number;
  /** Gateway: events kept per channel for replay; default 1000, 0 = off. */
  readonly replayBufferSize?: number;
  /** Fault switches. Default none. */
  readonly faults?: FaultSet;
  /** Receives one redacted JSON log line per record; undefined = no logs. */
  readonly onLog?: LogWriter;
  /** The hub's clock in ms (heartbeats, timeouts, faults, durations). Default `Date.now`; tests move it. */
  readonly now?: () => number;
  /**
   * Set in a `serve --workers` worker: the link to the primary. Events and ids then go through the
   * primary (unless `redisUrl`), per-user limits hold for the whole server, and `/metrics` and the
   * JSON stats report every worker.
   */
  readonly cluster?: WorkerLink;
}

/** One mounted route, for banners and `GET /`. */
export interface RouteSummary {
  readonly method: RouteMethod;
  readonly path: string;
  readonly summary: string;
  readonly isStream: boolean;
}

/** A mounted profile, for banners and `GET /`. */
export interface ProfileSummary {
  readonly name: string;
  readonly contract: string;
  readonly routes: readonly RouteSummary[];
}

/** A running server. */
export interface ServeHandle {
  /** `http://host:port` with the real port. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly profiles: readonly ProfileSummary[];
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

/** What a server says about itself in banners (a `--workers` worker sends it to the primary). */
export type ServeSummary = Pick<ServeHandle, 'profiles' | 'busKind' | 'isDevSecret'>;

/** The pieces every profile shares. */
interface ServeCore {
  readonly log: ServeLogger;
  readonly metrics: ServeMetrics;
  readonly hub: Hub;
  readonly bus: EventBus;
  readonly peers: ServePeers;
  readonly profiles: Profile[];
}

/** What the request handler needs. */
interface RequestContext {
  readonly router: Router;
  readonly verify: TokenVerifier;
  readonly maxBodyBytes: number;
  readonly headerTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly gate: ConnectionGate;
  readonly metrics: ServeMetrics;
  /** `--workers`: this worker's number, sent as `X-Ssekit-Worker` on every answer. */
  readonly worker: number | undefined;
}

/** Starts the backend and resolves once it listens. */
export async function startServer(options: ServeOptions = {}): Promise<ServeHandle> {
  const names = options.profiles ?? PROFILE_NAMES;
  for (const name of names) {
    if (!isProfileName(name)) throw new UsageError(`unknown profile '${name}'`, { hint: `profiles: ${PROFILE_NAMES.join(', ')}` });
  }
  const jwt = options.jwt ?? { secret: DEV_JWT_SECRET };
  const verify = createTokenVerifier(jwt, { allowNoExp: options.allowNoExp });
  const core = await createCore(options);
  let server: Server;
  let index: ProfileSummary[];
  try {
    const router = createRouter();
    index = await mountProfiles(core, names, router, options);
    mountServerRoutes(router, core, index);
    server = createHttpServer(
      {
        router,
        verify,
        maxBodyBytes: options.maxBodyBytes ?? 64 * 1024,
        headerTimeoutMs: wholeMs(options.headerTimeoutMs ?? 10_000),
        bodyTimeoutMs: wholeMs(options.bodyTimeoutMs ?? 10_000),
        gate: new ConnectionGate(options.maxConnections),
        metrics: core.metrics,
        worker: options.cluster?.worker,
      },
      core.log,
    );
    await listen(server, options.host ?? '127.0.0.1', options.port ?? 8787);
  } catch (error) {
    await closeCore(core);
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  core.log('info', 'listening', { url, profiles: names, bus: core.bus.kind });
  let closing: Promise<void> | undefined;
  return {
    url,
    host: address.address,
    port: address.port,
    profiles: index,
    busKind: core.bus.kind,
    isDevSecret: 'secret' in jwt && jwt.secret === DEV_JWT_SECRET,
    metrics: core.metrics,
    liveStreams: core.hub.liveCount,
    close: () => {
      closing ??= shutdown(server, core);
      return closing;
    },
  };
}

/** Metrics, hub and bus. The gauge reads the hub at scrape time, so it is what the registry holds. */
async function createCore(options: ServeOptions): Promise<ServeCore> {
  const link = options.cluster;
  const log = createLogger(options.onLog, link === undefined ? {} : { worker: link.worker });
  let hubRef: Hub | undefined;
  const metrics = createServeMetrics({ countByRole: () => hubRef?.countByRole() ?? new Map(), bufferedBytes: () => hubRef?.bufferedBytes() ?? 0 });
  const hub = createHub({
    metrics,
    faults: options.faults ?? NO_FAULTS,
    log,
    heartbeatMs: options.heartbeatMs ?? 30_000,
    inactivityTimeoutMs: options.inactivityTimeoutMs ?? 3_600_000,
    maxBufferBytes: options.maxBufferBytes ?? 1024 * 1024,
    retryMs: options.retryMs,
    now: options.now,
    ...(link === undefined ? {} : { createLimiter: (evict: (streamId: number) => void) => createClusterLimiter(link, evict) }),
  });
  hubRef = hub;
  const peers = link === undefined ? createSoloPeers() : createClusterPeers(link);
  peers.register('metrics', () => metrics.registry.getMetricsAsJSON());
  try {
    return { log, metrics, hub, bus: await createBus(options, log), peers, profiles: [] };
  } catch (error) {
    hub.close();
    metrics.stop();
    throw error;
  }
}

/** Redis when asked for, else the primary's bus in a worker, else in-process. */
async function createBus(options: ServeOptions, log: ServeLogger): Promise<EventBus> {
  // With --workers every worker gets every Redis message: worker 1 counts them (BusDelivery.countsHere).
  const countsHere = options.cluster === undefined || options.cluster.worker === 1;
  if (options.redisUrl !== undefined) return createRedisBus({ url: options.redisUrl, countsHere, onWarning: (message) => log('warn', message) });
  return options.cluster === undefined ? createMemoryBus() : createPrimaryBus(options.cluster);
}

/** Builds every profile, mounts its routes and starts it (bus subscriptions, upstream sources). */
async function mountProfiles(core: ServeCore, names: readonly string[], router: Router, options: ServeOptions): Promise<ProfileSummary[]> {
  const settings: ProfileSettings = {
    heartbeatMs: options.heartbeatMs ?? 30_000,
    maxStreamsPerUser: options.maxStreamsPerUser,
    streamLimitPolicy: options.streamLimitPolicy,
    amqpUrl: options.amqpUrl,
    amqpQueuePrefix: options.amqpQueuePrefix,
    sourceWarningMs: options.sourceWarningMs,
    replayBufferSize: options.replayBufferSize,
  };
  for (const name of names) {
    const factory = PROFILE_FACTORIES[name];
    if (!factory) continue;
    const context: ProfileContext = { hub: core.hub, bus: core.bus, metrics: core.metrics, log: core.log, settings, peers: core.peers, openStream: createStreamOpener(core.hub, name) };
    const profile = factory(context);
    for (const route of profile.routes) router.mount(route);
    core.profiles.push(profile);
  }
  for (const profile of core.profiles) await profile.start?.();
  return core.profiles.map((profile) => ({
    name: profile.name,
    contract: profile.contract,
    routes: profile.routes.map((route) => ({ method: route.method, path: route.path, summary: route.summary, isStream: route.isStream === true })),
  }));
}

/** The one `hub.open` call shape, bound to a profile. */
function createStreamOpener(hub: Hub, profile: string): StreamOpener {
  return (request, principal, options) => hub.open(request.req, request.res, { ...options, profile, path: request.url.pathname, principal, ip: request.ip });
}

/** `GET /metrics` (CONTRACTS §1 "Metrics") and the index `GET /`. */
function mountServerRoutes(router: Router, core: ServeCore, index: readonly ProfileSummary[]): void {
  router.mount({
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus text',
    isServedWhenFull: true,
    handle: async ({ res }) => {
      // One process: its own registry. Workers: every worker's series, labelled (cluster-metrics.ts).
      const body = core.peers.worker === undefined ? (await core.metrics.render()).body : renderWorkerMetrics(await core.peers.gather('metrics'));
      res.writeHead(200, { 'Content-Type': core.metrics.registry.contentType, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    },
  });
  router.mount({
    method: 'GET',
    path: '/',
    summary: 'this index (JSON)',
    isServedWhenFull: true,
    handle: async ({ res }) => sendJson(res, 200, { name: 'ssekit serve', profiles: index, metrics: '/metrics', bus: core.bus.kind, ...(core.peers.worker === undefined ? {} : { worker: core.peers.worker }) }),
  });
}

/**
 * The HTTP server: every request is routed; an HttpError becomes its JSON answer, anything else
 * a logged 500. Timeouts (issue 14 point 2): headers must arrive within `headerTimeoutMs` (408
 * after; a slowloris is not held), a producer's body within `bodyTimeoutMs` (`readJsonObject`'s
 * own 408). Node's whole-request timeout is the backstop for a body nobody reads; it only runs
 * until a request is complete, so streams (complete GETs) live for hours.
 */
function createHttpServer(context: RequestContext, log: ServeLogger): Server {
  const server = createServer(
    {
      keepAliveTimeout: 5000,
      headersTimeout: context.headerTimeoutMs,
      requestTimeout: context.headerTimeoutMs + context.bodyTimeoutMs + 1000,
      // How often Node looks for timed-out requests: a tenth of the header timeout, at most 1 s.
      connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(context.headerTimeoutMs / 10))),
    },
    (req, res) => {
      inFlight.add(req.socket);
      res.once('close', () => inFlight.delete(req.socket));
      handleRequest(context, req, res).catch((error: unknown) => answerError(req, res, error, log));
    },
  );
  const inFlight = new WeakSet<Socket>();
  server.on('connection', (socket: Socket) => context.gate.onConnection(socket));
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, inFlight.has(socket)));
  return server;
}

/**
 * A request Node could not hand to the router: a parse error (400) or a request that did not
 * arrive in time (408). A socket whose response is under way is only closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, hasResponse: boolean): void {
  if (!socket.writable || hasResponse) {
    socket.destroy();
    return;
  }
  const isTimeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const status = isTimeout ? '408 Request Timeout' : '400 Bad Request';
  const body = isTimeout ? '{"error":"request not received in time","code":"request_timeout"}' : '{"error":"malformed request","code":"bad_request"}';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
}

async function handleRequest(context: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (context.worker !== undefined) res.setHeader('X-Ssekit-Worker', String(context.worker));
  const url = parseRequestTarget(req.url);
  const match = context.router.find(url.pathname, req.method ?? 'GET');
  if (!context.gate.isAdmitted(req.socket)) {
    // Monitoring still answers on a full server (then the connection closes); the rest waits.
    if (match.route.isServedWhenFull !== true) {
      context.metrics.connectionsRefused.inc();
      throw context.gate.refusal();
    }
    res.shouldKeepAlive = false;
  }
  const request: RouteRequest = {
    req,
    res,
    url,
    params: match.params,
    ip: clientIp(req),
    authenticate: (roles) => authenticate(context.verify, req, url, roles),
    readJson: () => readJsonObject(req, context.maxBodyBytes, context.bodyTimeoutMs),
  };
  await match.route.handle(request);
}

/** The Bearer or `?token=` JWT, verified, with its role checked (401 / 403 otherwise). */
async function authenticate(verify: TokenVerifier, req: IncomingMessage, url: URL, roles: readonly string[] | 'any'): ReturnType<RouteRequest['authenticate']> {
  const token = extractToken(req.headers.authorization, url);
  if (token === undefined) throw new HttpError(401, 'missing_token', 'missing token (Authorization: Bearer or ?token=)', { headers: { 'WWW-Authenticate': 'Bearer' } });
  const principal = await verify(token);
  if (roles !== 'any') requireRole(principal, roles);
  return principal;
}

function answerError(req: IncomingMessage, res: ServerResponse, error: unknown, log: ServeLogger): void {
  if (error instanceof HttpError) {
    // An oversized or late body is not drained, a full server takes no more: answer, then close.
    if (error.status === 413 || error.status === 408 || error.status === 503) res.shouldKeepAlive = false;
    sendError(res, error);
    return;
  }
  log('error', 'request failed', { method: req.method, path: safePath(req.url), error: error instanceof Error ? error.message : String(error) });
  sendError(res, new HttpError(500, 'internal', 'internal error'));
}

async function listen(server: Server, host: string, port: number): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A large backlog: bench ramps thousands of connections at once.
      server.listen({ host, port, backlog: 4096 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is already in use on ${host}`, { hint: 'pick another --port, or --port 0 for a free one' });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on host '${host}'`, { cause: error });
    throw error;
  }
}

/** Undoes `createCore` and the profiles' `start` (a failed start-up, and the end of shutdown). */
async function closeCore(core: ServeCore): Promise<void> {
  core.hub.close();
  await Promise.allSettled(core.profiles.map((profile) => profile.close?.()));
  await core.bus.close();
  core.metrics.stop();
}

async function shutdown(server: Server, core: ServeCore): Promise<void> {
  // Stop accepting first, then end streams with their chunked terminator (a clean end for clients).
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  await closeCore(core);
  // A connection is idle once its response is complete (a stream's terminator handed to the
  // kernel, a producer's answer sent): close those as they become idle, and cut the rest (clients
  // that do not read) after a grace period.
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  const grace = setTimeout(() => server.closeAllConnections(), 2000);
  server.closeIdleConnections();
  await closed;
  clearInterval(sweep);
  clearTimeout(grace);
  core.log('info', 'stopped');
}

/** Node's HTTP timeouts take whole milliseconds, at least 1. */
function wholeMs(ms: number): number {
  return Math.max(1, Math.round(ms));
}

/** A request path for logs: never the query string (it may carry `?token=`). */
function safePath(url: string | undefined): string {
  return (url ?? '').split('?')[0] ?? '';
}
