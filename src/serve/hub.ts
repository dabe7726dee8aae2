/**
 * The SSE connection registry ("hub") of the reference backend.
 *
 * Built to hold 10,000+ streams in one process without being the bottleneck:
 * - frames are encoded once per broadcast (a Buffer) and the same bytes are written to every
 *   recipient; recipients are looked up by group (`salon:1`, `store:7`, ...), not scanned;
 * - one shared sweep timer drives heartbeats, the inactivity timeout and the time-based faults
 *   for every connection (no per-connection intervals or timeouts);
 * - each connection has a bounded write buffer: a client whose unsent bytes would go over
 *   `maxBufferBytes` is disconnected and counted, so one slow reader never makes the process
 *   buffer without limit or slows the others (issue 3 "Behaviour under load").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from './auth.js';
import type { FaultSet } from './faults.js';
import { HttpError } from './http.js';
import type { ServeLogger } from './log.js';
import type { ServeMetrics } from './metrics.js';

/** A stream's heartbeat (CONTRACTS "What follows": comments, `ping` events, empty `heartbeat` events). */
export interface HeartbeatSpec {
  /** Interval in ms. */
  readonly intervalMs: number;
  /**
   * `true`: sent only after `intervalMs` without an event (CONTRACTS §4 `: ping` "after 30 s
   * without events"); `false`: every `intervalMs` whatever the traffic (§1 `:keepalive`, §3 `ping`).
   */
  readonly isIdleBased: boolean;
  /** The frame to send at `nowMs`; called at most once per sweep for all connections sharing this spec. */
  readonly frame: (nowMs: number) => Buffer;
}

/** What to do when a user opens more streams than allowed. */
export type StreamLimitPolicy = 'reject' | 'close-oldest';

/** A per-user stream limit (CONTRACTS §1: 1 per admin; §5: 5 per user). */
export interface StreamLimit {
  /** Limit scope, e.g. `admin-orders:user:42`. */
  readonly key: string;
  /** Streams allowed at once; 0 or less means no limit. */
  readonly max: number;
  /** `reject`: answer 409 `{"code":"stream_limit"}`; `close-oldest`: end the oldest stream(s). */
  readonly policy: StreamLimitPolicy;
}

/** Scalar facts about a stream that a profile routes or reports on (salon id, store id, ...). */
export type StreamScope = Readonly<Record<string, string | number | undefined>>;

/** Everything needed to turn a request into a registered stream. */
export interface OpenStreamOptions {
  readonly profile: string;
  /** Path without the query string (logged). */
  readonly path: string;
  readonly principal: Principal;
  readonly ip: string;
  /** Groups this stream receives broadcasts for. */
  readonly groups: readonly string[];
  readonly scope?: StreamScope;
  readonly heartbeat?: HeartbeatSpec | undefined;
  /** Extra response headers (e.g. §1 `X-Reconnect-Delay`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly limit?: StreamLimit | undefined;
  /** Bytes written right after the headers: `connected` (§3), `initial` (§4). Not subject to faults. */
  readonly initial?: string | Buffer;
}

/** Why a stream ended (logged as `reason`). */
export type CloseReason = 'client' | 'shutdown' | 'inactivity' | 'slow-client' | 'stream-limit' | 'fault-close-every';

/** One registered stream. Fields are read by profiles (stats, routing); the hub mutates them. */
export class SseConnection {
  readonly id: number;
  readonly profile: string;
  readonly path: string;
  readonly principal: Principal;
  readonly ip: string;
  readonly groups: readonly string[];
  readonly scope: StreamScope;
  readonly res: ServerResponse;
  readonly heartbeat: HeartbeatSpec | undefined;
  readonly limitKey: string | undefined;
  readonly openedAtMs: number;
  lastEventAtMs: number;
  nextHeartbeatAtMs: number;
  isClosed = false;
  /** `--fault stall-after`: no more bytes are written, the socket stays open. */
  isStalled = false;
  /** `--fault drop`: error-diffusion carry, so `drop=0.25` skips exactly every 4th delivery. */
  dropCarry = 0;
  constructor(id: number, res: ServerResponse, options: OpenStreamOptions, nowMs: number) {
    this.id = id;
    this.res = res;
    this.profile = options.profile;
    this.path = options.path;
    this.principal = options.principal;
    this.ip = options.ip;
    this.groups = options.groups;
    this.scope = options.scope ?? {};
    this.heartbeat = options.heartbeat;
    this.limitKey = options.limit && options.limit.max > 0 ? options.limit.key : undefined;
    this.openedAtMs = nowMs;
    this.lastEventAtMs = nowMs;
    this.nextHeartbeatAtMs = options.heartbeat ? nowMs + options.heartbeat.intervalMs : Number.POSITIVE_INFINITY;
  }
}

/** Hub settings; all durations in ms. */
export interface HubOptions {
  readonly metrics: ServeMetrics;
  readonly faults: FaultSet;
  readonly log: ServeLogger;
  /** Close a stream after this long without an event (heartbeats do not count); 0 disables. */
  readonly inactivityTimeoutMs: number;
  /** Unsent bytes allowed per stream before it is treated as a slow client. */
  readonly maxBufferBytes: number;
  /** `retry:` sent first on every stream, if set. */
  readonly retryMs?: number | undefined;
  /** The smallest heartbeat interval in use, to size the sweep tick. */
  readonly heartbeatMs: number;
}

/** Per-broadcast options. */
export interface BroadcastOptions {
  /** Only deliver to connections for which this returns true. */
  readonly filter?: (connection: SseConnection) => boolean;
}

/** The connection registry and fan-out. */
export interface Hub {
  /**
   * Writes the SSE headers and registers the stream; throws HttpError 409 `stream_limit` when
   * the limit rejects it (the caller's router answers it).
   */
  readonly open: (req: IncomingMessage, res: ServerResponse, options: OpenStreamOptions) => SseConnection;
  /** Writes one pre-encoded event frame to every stream of `group` (after `--fault delay`, if set). */
  readonly broadcast: (group: string, frame: Buffer, options?: BroadcastOptions) => void;
  /** Every registered stream (with `--fault leak`, closed ones too). */
  readonly connections: () => Iterable<SseConnection>;
  /** Registered streams per role (the `sse_connections_active` gauge). */
  readonly countByRole: () => Map<string, number>;
  /** Streams really open (not closed), whatever the leak fault says. */
  readonly liveCount: () => number;
  /** Ends every stream cleanly and stops the sweep timer. */
  readonly close: () => void;
}

const BASE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  // CONTRACTS §1, §4: stops nginx from buffering the stream.
  'X-Accel-Buffering': 'no',
} as const;

/** Creates the registry and starts its sweep timer (unref'd: it never keeps a process alive). */
export function createHub(options: HubOptions): Hub {
  const { metrics, faults, log } = options;
  const registry = new Set<SseConnection>();
  const live = new Set<SseConnection>();
  const groups = new Map<string, Set<SseConnection>>();
  const byLimitKey = new Map<string, SseConnection[]>();
  const pendingDelays = new Set<NodeJS.Timeout>();
  let nextId = 1;
  let isClosing = false;

  const unregister = (connection: SseConnection): void => {
    registry.delete(connection);
    for (const group of connection.groups) {
      const members = groups.get(group);
      if (!members) continue;
      members.delete(connection);
      if (members.size === 0) groups.delete(group);
    }
  };

  const finish = (connection: SseConnection, reason: CloseReason): void => {
    if (connection.isClosed) return;
    connection.isClosed = true;
    live.delete(connection);
    if (connection.limitKey !== undefined) {
      const list = byLimitKey.get(connection.limitKey);
      const index = list ? list.indexOf(connection) : -1;
      if (list && index !== -1) list.splice(index, 1);
      if (list && list.length === 0) byLimitKey.delete(connection.limitKey);
    }
    // The seed 003 bug, on purpose: with the leak fault the registry never forgets a stream.
    if (!faults.isLeaking) unregister(connection);
    const durationMs = Date.now() - connection.openedAtMs;
    metrics.connectionDuration.observe({ role: roleLabel(connection.principal.role) }, durationMs / 1000);
    log('info', 'sse disconnect', { ...describe(connection), reason, duration_ms: durationMs });
  };

  /** Ends a stream with the chunked terminator: the client sees a clean end of stream. */
  const endCleanly = (connection: SseConnection, reason: CloseReason, lastBytes?: string): void => {
    finish(connection, reason);
    if (lastBytes !== undefined && !connection.isStalled) connection.res.end(lastBytes);
    else connection.res.end();
  };

  /** Destroys the socket: the client sees a broken stream (no terminator). */
  const destroy = (connection: SseConnection, reason: CloseReason): void => {
    finish(connection, reason);
    connection.res.destroy();
  };

  /** Writes bytes unless the client is too far behind; returns false if the stream was dropped. */
  const write = (connection: SseConnection, frame: Buffer): boolean => {
    const res = connection.res;
    const pending = res.writableLength;
    // A single frame larger than the bound still goes to a client that has caught up.
    if (pending > 0 && pending + frame.length > options.maxBufferBytes) {
      metrics.slowClientDisconnects.inc({ profile: connection.profile });
      metrics.eventsDropped.inc({ reason: 'slow_client' });
      log('warn', 'slow client disconnected', { ...describe(connection), buffered_bytes: pending });
      destroy(connection, 'slow-client');
      return false;
    }
    res.write(frame);
    return true;
  };

  type DeliveryTally = { delivered: number; droppedFault: number; droppedStalled: number };

  /** One event delivery with the drop/stall faults applied; updates `tally`, not metrics. */
  const deliver = (connection: SseConnection, frame: Buffer, nowMs: number, tally: DeliveryTally): void => {
    if (connection.isClosed) return;
    if (connection.isStalled) {
      tally.droppedStalled += 1;
      return;
    }
    if (faults.dropFraction !== undefined) {
      connection.dropCarry += faults.dropFraction;
      if (connection.dropCarry >= 1 - 1e-9) {
        connection.dropCarry -= 1;
        tally.droppedFault += 1;
        return;
      }
    }
    if (!write(connection, frame)) return;
    tally.delivered += 1;
    connection.lastEventAtMs = nowMs;
    const heartbeat = connection.heartbeat;
    if (heartbeat?.isIdleBased) connection.nextHeartbeatAtMs = nowMs + heartbeat.intervalMs;
  };

  const record = (profile: string, tally: DeliveryTally): void => {
    // One labelled inc per broadcast, not per client: label hashing is the costly part.
    if (tally.delivered > 0) metrics.eventsDelivered.inc({ profile }, tally.delivered);
    if (tally.droppedFault > 0) metrics.eventsDropped.inc({ reason: 'fault' }, tally.droppedFault);
    if (tally.droppedStalled > 0) metrics.eventsDropped.inc({ reason: 'stalled' }, tally.droppedStalled);
  };

  const broadcastNow = (group: string, frame: Buffer, filter: ((connection: SseConnection) => boolean) | undefined): void => {
    const members = groups.get(group);
    if (!members || members.size === 0) return;
    const nowMs = Date.now();
    const tallies = new Map<string, DeliveryTally>();
    for (const connection of members) {
      if (connection.isClosed || (filter !== undefined && !filter(connection))) continue;
      let tally = tallies.get(connection.profile);
      if (!tally) {
        tally = { delivered: 0, droppedFault: 0, droppedStalled: 0 };
        tallies.set(connection.profile, tally);
      }
      deliver(connection, frame, nowMs, tally);
    }
    for (const [profile, tally] of tallies) record(profile, tally);
  };

  const applyLimit = (limit: StreamLimit): void => {
    const current = byLimitKey.get(limit.key) ?? [];
    if (current.length < limit.max) return;
    if (limit.policy === 'reject') {
      throw new HttpError(409, 'stream_limit', `at most ${limit.max} stream(s) per user`);
    }
    // close-oldest: make room for the newcomer; the old stream gets a comment saying why.
    while (current.length >= limit.max) {
      const oldest = current[0];
      if (!oldest) break;
      endCleanly(oldest, 'stream-limit', ': stream_limit: replaced by a newer stream\n\n');
    }
  };

  const sweep = (): void => {
    const nowMs = Date.now();
    const heartbeatFrames = new Map<HeartbeatSpec, Buffer>();
    for (const connection of live) {
      const ageMs = nowMs - connection.openedAtMs;
      if (faults.closeEveryMs !== undefined && ageMs >= faults.closeEveryMs) {
        destroy(connection, 'fault-close-every');
        continue;
      }
      if (faults.stallAfterMs !== undefined && !connection.isStalled && ageMs >= faults.stallAfterMs) {
        connection.isStalled = true;
        log('info', 'stream stalled (fault)', describe(connection));
      }
      if (connection.isStalled) continue;
      if (options.inactivityTimeoutMs > 0 && nowMs - connection.lastEventAtMs >= options.inactivityTimeoutMs) {
        endCleanly(connection, 'inactivity');
        continue;
      }
      const heartbeat = connection.heartbeat;
      if (heartbeat && nowMs >= connection.nextHeartbeatAtMs) {
        let frame = heartbeatFrames.get(heartbeat);
        if (!frame) {
          frame = heartbeat.frame(nowMs);
          heartbeatFrames.set(heartbeat, frame);
        }
        if (write(connection, frame)) connection.nextHeartbeatAtMs = nowMs + heartbeat.intervalMs;
      }
    }
  };

  const periods = [options.heartbeatMs, options.inactivityTimeoutMs, faults.stallAfterMs, faults.closeEveryMs].filter((ms): ms is number => ms !== undefined && ms > 0);
  // A quarter of the shortest period keeps heartbeats within 25% of their interval; 1 s is
  // plenty for the seeds' 30 s / 1 h, and a sweep over 10,000 streams costs well under 1 ms.
  const tickMs = Math.min(1000, Math.max(5, Math.floor(Math.min(...periods, 4000) / 4)));
  const timer = setInterval(sweep, tickMs);
  timer.unref();

  return {
    open(req, res, openOptions) {
      if (isClosing) throw new HttpError(503, 'shutting_down', 'server is shutting down');
      // The client may have hung up while its token was being verified: its 'close' has
      // already fired, so registering it now would leak it for ever.
      if (res.destroyed || req.socket.destroyed) throw new HttpError(499, 'client_closed', 'client closed the request');
      const limit = openOptions.limit;
      if (limit && limit.max > 0) applyLimit(limit);
      const connection = new SseConnection(nextId, res, openOptions, Date.now());
      nextId += 1;
      registry.add(connection);
      live.add(connection);
      for (const group of openOptions.groups) {
        let members = groups.get(group);
        if (!members) {
          members = new Set();
          groups.set(group, members);
        }
        members.add(connection);
      }
      if (connection.limitKey !== undefined) {
        const list = byLimitKey.get(connection.limitKey) ?? [];
        list.push(connection);
        byLimitKey.set(connection.limitKey, list);
      }
      res.on('close', () => finish(connection, 'client'));
      req.socket.setNoDelay(true);
      req.socket.setKeepAlive(true);
      res.writeHead(200, { ...BASE_HEADERS, ...openOptions.headers });
      let first = options.retryMs === undefined ? '' : `retry: ${options.retryMs}\n\n`;
      if (openOptions.initial !== undefined) first += openOptions.initial.toString();
      // Headers and first frames go out in one packet; an empty stream still gets its headers now.
      if (first === '') res.flushHeaders();
      else res.write(first);
      log('info', 'sse connect', describe(connection));
      return connection;
    },
    broadcast(group, frame, broadcastOptions = {}) {
      if (isClosing) return;
      const filter = broadcastOptions.filter;
      if (faults.delayMs === undefined) {
        broadcastNow(group, frame, filter);
        return;
      }
      // --fault delay: one timer per event, not per client; timers of equal delay keep order.
      const handle = setTimeout(() => {
        pendingDelays.delete(handle);
        broadcastNow(group, frame, filter);
      }, faults.delayMs);
      pendingDelays.add(handle);
    },
    connections: () => registry,
    countByRole() {
      const counts = new Map<string, number>();
      for (const connection of registry) {
        const role = roleLabel(connection.principal.role);
        counts.set(role, (counts.get(role) ?? 0) + 1);
      }
      return counts;
    },
    liveCount: () => live.size,
    close() {
      isClosing = true;
      clearInterval(timer);
      for (const handle of pendingDelays) clearTimeout(handle);
      pendingDelays.clear();
      for (const connection of live) endCleanly(connection, 'shutdown');
    },
  };
}

/** Log fields for a stream: who, from where, on what. Never the token or the query string. */
function describe(connection: SseConnection): Record<string, unknown> {
  return {
    conn: connection.id,
    profile: connection.profile,
    path: connection.path,
    user: connection.principal.userId,
    role: connection.principal.role,
    ip: connection.ip,
  };
}

/** The `role` label of a connection: tokens without a role (the gateway's) count as `none`. */
function roleLabel(role: string): string {
  return role === '' ? 'none' : role;
}
