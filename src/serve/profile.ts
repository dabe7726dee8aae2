/**
 * The Profile interface: how one seed system's contract is mounted on the shared server.
 *
 * A profile is a factory `(context) => Profile`. It gets the shared pieces (connection hub,
 * event bus, metrics, logger, settings) and returns its routes plus optional `start`/`close`.
 * The server mounts every selected profile's routes on one `node:http` server, calls `start`
 * before listening (subscribe to bus channels, open an upstream source such as the gateway's
 * AMQP connection) and `close` on shutdown, after the hub has ended every stream.
 *
 * Adding a profile (e.g. `src/serve/profiles/gateway.ts`, CONTRACTS §5) takes:
 * 1. a file exporting `createGatewayProfile: ProfileFactory`;
 * 2. its name in `PROFILE_NAMES` (`src/serve/profile-names.ts`) and one line in
 *    `PROFILE_FACTORIES` (`src/serve/profiles/index.ts`; the compiler checks the two agree);
 * 3. any profile-specific setting as an optional field of `ProfileSettings` below (and its flag
 *    in `src/cli/commands/serve.ts`), e.g. the AMQP URL.
 * Stream handlers call `request.authenticate(roles)` then `context.openStream(request, principal,
 * {...})`; producer
 * handlers call `request.readJson()`, validate, `context.bus.publish(...)`, and answer with
 * `sendJson`. Throwing an `HttpError` anywhere answers `{"error","code"}` with its status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from './auth.js';
import type { EventBus } from './bus.js';
import type { Hub } from './hub.js';
import type { HubStream, OpenStreamOptions, StreamLimit, StreamLimitPolicy } from './hub-stream.js';
import type { ServeLogger } from './log.js';
import type { ServeMetrics } from './metrics.js';
import type { ServePeers } from './peers.js';

/** Settings shared by profiles; `undefined` means "the seed's default for this profile". */
export interface ProfileSettings {
  /** Heartbeat / keepalive / ping interval in ms (seeds: 30 s). */
  readonly heartbeatMs: number;
  /** Streams per user; undefined = profile default (admin-orders 1, gateway 5, others none). */
  readonly maxStreamsPerUser: number | undefined;
  /** Behaviour over the limit; undefined = profile default (admin-orders `close-oldest`). */
  readonly streamLimitPolicy: StreamLimitPolicy | undefined;
  /** AMQP URL for profiles that relay a broker (gateway, CONTRACTS §5). */
  readonly amqpUrl?: string | undefined;
  /** `--workers`: name prefix of the AMQP queues the workers of one server share. */
  readonly amqpQueuePrefix?: string | undefined;
  /** Gateway: interval of `source_unavailable` warnings; undefined = 2 × heartbeat (60 s, §5). */
  readonly sourceWarningMs?: number | undefined;
  /** Gateway: events kept per channel for `Last-Event-ID` replay; undefined = 1000, 0 = off. */
  readonly replayBufferSize?: number | undefined;
}

/** What a profile says about a new stream; the request fills in the rest (path, address, ...). */
export type ProfileStreamOptions = Omit<OpenStreamOptions, 'profile' | 'path' | 'principal' | 'ip'>;

/** Registers `request` as a stream of the calling profile (the one `hub.open` call shape). */
export type StreamOpener = (request: RouteRequest, principal: Principal, options: ProfileStreamOptions) => Promise<HubStream>;

/** What a profile factory receives. */
export interface ProfileContext {
  readonly hub: Hub;
  /** `hub.open` for this profile: profile name, path, client address and response from `request`. */
  readonly openStream: StreamOpener;
  /** The server's processes, for reports on the whole server (`--workers`). */
  readonly peers: ServePeers;
  readonly bus: EventBus;
  readonly metrics: ServeMetrics;
  readonly log: ServeLogger;
  readonly settings: ProfileSettings;
}

/** One request as a route handler sees it. */
export interface RouteRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** `{name}` segments of the route path, decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** Client address (logged; never the token). */
  readonly ip: string;
  /**
   * Verifies the Bearer or `?token=` JWT and checks the role: 401 / 403 HttpError otherwise.
   * `'any'` accepts every valid token (the gateway decides by its `channels` claim, §5).
   */
  readonly authenticate: (roles: readonly string[] | 'any') => Promise<Principal>;
  /** The body as a JSON object, bounded by `--max-body`: 400 / 413 HttpError otherwise. */
  readonly readJson: () => Promise<Record<string, unknown>>;
}

/** HTTP methods the backend routes. */
export type RouteMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** A route: `path` is exact, with `{name}` for a single segment parameter. */
export interface Route {
  readonly method: RouteMethod;
  readonly path: string;
  /** One line for the start-up banner and `GET /`. */
  readonly summary: string;
  readonly isStream?: boolean;
  /** Answered even past `--max-connections` (monitoring: `/metrics`, the index). */
  readonly isServedWhenFull?: boolean;
  readonly handle: (request: RouteRequest) => Promise<void>;
}

/** A mounted seed system. */
export interface Profile {
  readonly name: string;
  /** The CONTRACTS.md section it implements, for the banner ("§1"). */
  readonly contract: string;
  readonly routes: readonly Route[];
  readonly start?: () => Promise<void>;
  readonly close?: () => Promise<void>;
}

/** Builds a profile from the shared context. */
export type ProfileFactory = (context: ProfileContext) => Profile;

/**
 * A user's stream limit: `--max-streams-per-user` and `--stream-limit-policy` when given, else
 * the profile's contract (`max` undefined: the contract sets no limit, and there is none).
 */
export function userStreamLimit(settings: ProfileSettings, key: string, contract: { readonly max?: number; readonly policy: StreamLimitPolicy }): StreamLimit | undefined {
  const max = settings.maxStreamsPerUser ?? contract.max;
  return max === undefined ? undefined : { key, max, policy: settings.streamLimitPolicy ?? contract.policy };
}
