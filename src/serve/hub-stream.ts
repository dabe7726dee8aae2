/**
 * One SSE response the reference backend holds open (`HubStream`): who it belongs to, which
 * broadcast groups it is in, its heartbeat schedule and its fault state. Named for the server
 * side so it is never mistaken for ssekit's client stream (`transport/open-stream.ts`).
 */
import type { ServerResponse } from 'node:http';
import type { Principal } from './auth.js';

/** A stream's heartbeat (CONTRACTS "What follows": comments, `ping` events, empty `heartbeat` events). */
export interface HeartbeatSpec {
  /** Interval in ms. */
  readonly intervalMs: number;
  /**
   * `true`: sent only after `intervalMs` without an event (CONTRACTS §4 `: ping` "after 30 s
   * without events"); `false`: every `intervalMs` whatever the traffic (§1 `:keepalive`, §3 `ping`).
   */
  readonly isIdleBased: boolean;
  /** The frame to send at `nowMs`; called at most once per sweep for all streams sharing this spec. */
  readonly frame: (nowMs: number) => Buffer;
}

/** What to do when a user opens more streams than allowed. */
export type StreamLimitPolicy = 'reject' | 'close-oldest';

/** A per-user stream limit (CONTRACTS §1: 1 per admin; §5: 5 per user). */
export interface StreamLimit {
  /** Limit scope, e.g. `admin-orders:42`. */
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
  /**
   * Bytes written right after the headers: `connected` (§3), `initial` (§4), a replay (§5). Not
   * subject to faults. A function is called once the stream is admitted, in the same tick as its
   * registration, so nothing broadcast meanwhile falls between the two (the gateway's replay).
   */
  readonly initial?: string | Buffer | (() => string | Buffer | undefined);
}

/** Why a stream ended (logged as `reason`). */
export type CloseReason = 'client' | 'shutdown' | 'inactivity' | 'slow-client' | 'stream-limit' | 'fault-close-every';

/** One registered stream. Fields are read by profiles (stats, routing); the hub mutates them. */
export class HubStream {
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
  /**
   * The socket refused more (a write returned false): frames wait in `queued` until 'drain'
   * instead of being handed to the socket, so dropping a slow client costs O(1) (issue 14 point 1).
   */
  isBackedUp = false;
  /** Frames not yet handed to the socket, oldest first; the Buffers are shared with every other recipient. */
  queued: Buffer[] = [];
  /** Bytes in `queued`. */
  queuedBytes = 0;
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

  /** Log fields: who, from where, on what. Never the token or the query string. */
  describe(): Record<string, unknown> {
    return { conn: this.id, profile: this.profile, path: this.path, user: this.principal.userId, role: this.principal.role, ip: this.ip };
  }

  /** The `role` label: tokens without a role (the gateway's) count as `none`. */
  roleLabel(): string {
    return this.principal.role === '' ? 'none' : this.principal.role;
  }
}
