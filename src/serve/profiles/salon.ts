/**
 * Profile `salon`: CONTRACTS §3 (seed 002), salon notifications.
 *
 * - Admin stream `GET /api/v1/notifications/stream` (role admin with a `salon_id` claim): gets
 *   the notifications of its salon. Customer stream `GET /api/v1/notifications/customer/stream`
 *   (role customer, optional `?salon_id=` filter): gets the notifications addressed to it.
 * - Events: `connected` on every (re)connect, `notification` (the seed's fields), `ping` with
 *   JSON `{timestamp}` every heartbeat interval.
 * - Routing by `recipient_type`: `salon` → every admin of `salon_id`; `user` → the admin
 *   `recipient_id` of `salon_id`; `customer` → customer `recipient_id` (and only streams whose
 *   `?salon_id=` filter, if any, matches the notification's `salon_id`).
 * - Producer `POST /api/v1/notifications` (admin: own salon only; superadmin: any) and stats
 *   `GET /api/v1/notifications/stream/stats` (superadmin) with the seed's JSON shape.
 */
import { encodeJsonEvent } from '../encode.js';
import { field, HttpError, sendJson, viaBroker } from '../http.js';
import { parseBusJson } from '../bus.js';
import type { Principal } from '../auth.js';
import type { PeerAnswer } from '../cluster/messages.js';
import type { HeartbeatSpec, HubStream, StreamLimit } from '../hub-stream.js';
import type { Profile, ProfileContext, ProfileFactory, RouteRequest } from '../profile.js';
import { userStreamLimit } from '../profile.js';

/** Bus channel for notifications (one per profile, issue 3 "Fan-out"). */
export const SALON_CHANNEL = 'ssekit:salon:notifications';

const RECIPIENT_TYPES = ['salon', 'user', 'customer'] as const;
type RecipientType = (typeof RECIPIENT_TYPES)[number];

/** The seed's notification object (CONTRACTS §3). */
export interface SalonNotification {
  readonly id: number;
  readonly notification_type: string;
  readonly title: string;
  readonly message: string;
  readonly recipient_type: RecipientType;
  readonly recipient_id: number | string | null;
  readonly salon_id: number | string | null;
  readonly entity_type: string | null;
  readonly entity_id: number | string | null;
  readonly is_read: boolean;
  readonly created_at: string;
  readonly extra_data: Record<string, unknown>;
}

const salonGroup = (salonId: unknown): string => `salon:${String(salonId)}`;
const adminGroup = (salonId: unknown, userId: unknown): string => `salon-admin:${String(salonId)}:${String(userId)}`;
const customerGroup = (userId: unknown): string => `salon-customer:${String(userId)}`;

/** Mounts CONTRACTS §3. */
export const createSalonProfile: ProfileFactory = (context) => new SalonProfile(context).profile();

/** The profile's routes and bus handler. */
class SalonProfile {
  private readonly context: ProfileContext;
  private readonly ping: HeartbeatSpec;

  constructor(context: ProfileContext) {
    this.context = context;
    context.peers.register('salon-stats', () => stats(context.hub.streams()));
    this.ping = {
      intervalMs: context.settings.heartbeatMs,
      isIdleBased: false,
      frame: (nowMs: number) => Buffer.from(encodeJsonEvent('ping', { timestamp: new Date(nowMs).toISOString() })),
    };
  }

  profile(): Profile {
    return {
      name: 'salon',
      contract: '§3',
      routes: [
        {
          method: 'GET',
          path: '/api/v1/notifications/stream',
          summary: 'admin stream: connected, notification, ping (role admin with salon_id)',
          isStream: true,
          handle: (request) => this.openAdminStream(request),
        },
        {
          method: 'GET',
          path: '/api/v1/notifications/customer/stream',
          summary: 'customer stream, optional ?salon_id= filter (role customer)',
          isStream: true,
          handle: (request) => this.openCustomerStream(request),
        },
        {
          method: 'GET',
          path: '/api/v1/notifications/stream/stats',
          summary: 'connection stats JSON (role superadmin)',
          handle: (request) => this.answerStats(request),
        },
        {
          method: 'POST',
          path: '/api/v1/notifications',
          summary: 'create a notification {recipient_type, recipient_id, salon_id, title, ...} (admin: own salon; superadmin)',
          handle: (request) => this.createNotification(request),
        },
      ],
      // A replacement worker's catch-up (isReplay) was delivered when it happened; nothing to rebuild.
      start: () => this.context.bus.subscribe(SALON_CHANNEL, (message, delivery) => (delivery.isReplay ? undefined : this.onMessage(message, delivery.countsHere))),
    };
  }

  /** One process: its own streams. `--workers`: every worker's, merged, with a `workers` breakdown. */
  private async answerStats(request: RouteRequest): Promise<void> {
    await request.authenticate(['superadmin']);
    const peers = this.context.peers;
    if (peers.worker === undefined) sendJson(request.res, 200, stats(this.context.hub.streams()));
    else sendJson(request.res, 200, mergeStats(await peers.gather('salon-stats')));
  }

  private async openAdminStream(request: RouteRequest): Promise<void> {
    const principal = await request.authenticate(['admin']);
    const salonId = principal.claims.salon_id;
    if (salonId === undefined || salonId === null || salonId === '') throw new HttpError(403, 'no_salon', 'this admin is not associated with a salon (no salon_id claim)');
    await this.context.openStream(request, principal, {
      groups: [salonGroup(salonId), adminGroup(salonId, principal.userId)],
      scope: { kind: 'admin', salon_id: salonId, user_id: principal.userId },
      heartbeat: this.ping,
      limit: this.limitFor(principal.userId),
      initial: connected({ role: 'admin', user_id: idValue(principal.userId), salon_id: salonId }),
    });
  }

  private async openCustomerStream(request: RouteRequest): Promise<void> {
    const principal = await request.authenticate(['customer']);
    const filter = request.url.searchParams.get('salon_id');
    if (filter !== null && filter.trim() === '') throw new HttpError(400, 'invalid_query', "'salon_id' must not be empty");
    await this.context.openStream(request, principal, {
      groups: [customerGroup(principal.userId)],
      scope: { kind: 'customer', user_id: principal.userId, salon_filter: filter ?? undefined },
      heartbeat: this.ping,
      limit: this.limitFor(principal.userId),
      initial: connected({ role: 'customer', user_id: idValue(principal.userId), salon_id: filter === null ? null : idValue(filter) }),
    });
  }

  private async createNotification(request: RouteRequest): Promise<void> {
    const principal = await request.authenticate(['admin', 'superadmin']);
    const body = await request.readJson();
    const recipientType = body['recipient_type'];
    if (typeof recipientType !== 'string' || !(RECIPIENT_TYPES as readonly string[]).includes(recipientType)) {
      throw new HttpError(400, 'invalid_field', `'recipient_type' must be one of ${RECIPIENT_TYPES.join(', ')}`);
    }
    const salonId = targetSalon(principal, field.id(body, 'salon_id', { optional: true }) ?? null);
    const recipientId = field.id(body, 'recipient_id', { optional: recipientType === 'salon' }) ?? null;
    if (recipientType !== 'customer' && salonId === null) throw new HttpError(400, 'invalid_field', `'salon_id' is required for recipient_type '${recipientType}'`);
    const extraData = body['extra_data'] ?? {};
    if (extraData === null || typeof extraData !== 'object' || Array.isArray(extraData)) throw new HttpError(400, 'invalid_field', "'extra_data' must be an object");
    const bus = this.context.bus;
    const notification: SalonNotification = {
      id: await viaBroker(() => bus.nextId('salon:notification')),
      notification_type: field.string(body, 'notification_type', { optional: true }) ?? 'generic',
      title: field.string(body, 'title', { optional: true }) ?? '',
      message: field.string(body, 'message', { optional: true }) ?? '',
      recipient_type: recipientType as RecipientType,
      recipient_id: recipientId,
      salon_id: salonId,
      entity_type: field.string(body, 'entity_type', { optional: true }) ?? null,
      entity_id: field.id(body, 'entity_id', { optional: true }) ?? null,
      is_read: false,
      created_at: new Date().toISOString(),
      extra_data: extraData as Record<string, unknown>,
    };
    await viaBroker(() => bus.publish(SALON_CHANNEL, JSON.stringify(notification)));
    sendJson(request.res, 201, notification);
  }

  /** Routing by `recipient_type` (CONTRACTS §3). */
  private onMessage(message: string, countsHere: boolean): void {
    const { hub, log, metrics } = this.context;
    const notification = parseBusJson(message, SALON_CHANNEL, log) as SalonNotification | undefined;
    if (notification === undefined) return;
    if (countsHere) metrics.eventsEmitted.inc({ event_type: 'notification' });
    const frame = Buffer.from(encodeJsonEvent('notification', notification));
    switch (notification.recipient_type) {
      case 'salon':
        hub.broadcast(salonGroup(notification.salon_id), frame);
        break;
      case 'user':
        hub.broadcast(adminGroup(notification.salon_id, notification.recipient_id), frame);
        break;
      case 'customer': {
        const salonId = notification.salon_id;
        hub.broadcast(customerGroup(notification.recipient_id), frame, {
          filter: (stream) => stream.scope['salon_filter'] === undefined || (salonId !== null && String(stream.scope['salon_filter']) === String(salonId)),
        });
        break;
      }
      default:
        log('warn', 'ignored a notification with an unknown recipient_type', { channel: SALON_CHANNEL });
    }
  }

  private limitFor(userId: string): StreamLimit | undefined {
    // The seed sets no per-user limit; one applies only when --max-streams-per-user is given.
    return userStreamLimit(this.context.settings, `salon:${userId}`, { policy: 'reject' });
  }
}

function connected(fields: Record<string, unknown>): string {
  return encodeJsonEvent('connected', { status: 'connected', ...fields, timestamp: new Date().toISOString() });
}

/** The salon a notification goes to: an admin may only notify its own salon; a superadmin any. */
function targetSalon(principal: Principal, requested: number | string | null): number | string | null {
  if (principal.role !== 'admin') return requested;
  const ownSalon = principal.claims.salon_id;
  if (ownSalon === undefined) throw new HttpError(403, 'no_salon', 'this admin is not associated with a salon (no salon_id claim)');
  if (requested !== null && String(requested) !== String(ownSalon)) throw new HttpError(403, 'forbidden', 'an admin may only notify its own salon');
  return ownSalon;
}

/** The server's stats from every worker's: counts added, lists joined, and each worker's counts (`missing` if it did not answer). */
function mergeStats(answers: readonly PeerAnswer[]): SalonStats & { workers: unknown[] } {
  const merged: SalonStats & { workers: unknown[] } = { active_admin_connections: 0, active_customer_connections: 0, total_connections: 0, admins: [], customers: [], workers: [] };
  for (const answer of [...answers].sort((a, b) => a.worker - b.worker)) {
    if (answer.isMissing === true) {
      merged.workers.push({ worker: answer.worker, missing: true });
      continue;
    }
    const part = answer.value as SalonStats;
    merged.active_admin_connections += part.active_admin_connections;
    merged.active_customer_connections += part.active_customer_connections;
    merged.total_connections += part.total_connections;
    merged.admins.push(...part.admins);
    merged.customers.push(...part.customers);
    merged.workers.push({ worker: answer.worker, active_admin_connections: part.active_admin_connections, active_customer_connections: part.active_customer_connections, total_connections: part.total_connections });
  }
  return merged;
}

/** CONTRACTS §3's stats object. */
interface SalonStats {
  active_admin_connections: number;
  active_customer_connections: number;
  total_connections: number;
  admins: Array<[number | string, number | string]>;
  customers: Array<number | string>;
}

/**
 * CONTRACTS §3 stats shape. Built from the registry, so with `--fault leak` the closed streams
 * it still holds are counted, exactly like the gauge.
 */
function stats(streams: Iterable<HubStream>): SalonStats {
  const admins: Array<[number | string, number | string]> = [];
  const customers: Array<number | string> = [];
  for (const stream of streams) {
    if (stream.profile !== 'salon') continue;
    if (stream.scope['kind'] === 'admin') admins.push([idValue(stream.scope['salon_id']), idValue(stream.scope['user_id'])]);
    else customers.push(idValue(stream.scope['user_id']));
  }
  return { active_admin_connections: admins.length, active_customer_connections: customers.length, total_connections: admins.length + customers.length, admins, customers };
}

/** Ids as the seed shows them: numbers when they are numeric (JWT `sub` is always a string). */
function idValue(value: unknown): number | string {
  if (typeof value === 'number') return value;
  const text = String(value);
  return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
}
