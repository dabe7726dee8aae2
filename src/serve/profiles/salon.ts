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
import type { SseConnection } from '../hub.js';
import type { ProfileFactory } from '../profile.js';

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
export const createSalonProfile: ProfileFactory = ({ hub, bus, metrics, log, settings }) => {
  const ping = {
    intervalMs: settings.heartbeatMs,
    isIdleBased: false,
    frame: (nowMs: number) => Buffer.from(encodeJsonEvent('ping', { timestamp: new Date(nowMs).toISOString() })),
  };
  const connected = (fields: Record<string, unknown>): string => encodeJsonEvent('connected', { status: 'connected', ...fields, timestamp: new Date().toISOString() });

  const onMessage = (message: string): void => {
    let notification: SalonNotification;
    try {
      notification = JSON.parse(message) as SalonNotification;
    } catch {
      log('warn', 'ignored a non-JSON message', { channel: SALON_CHANNEL, bytes: message.length });
      return;
    }
    metrics.eventsEmitted.inc({ event_type: 'notification' });
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
          filter: (connection) => connection.scope['salon_filter'] === undefined || (salonId !== null && String(connection.scope['salon_filter']) === String(salonId)),
        });
        break;
      }
      default:
        log('warn', 'ignored a notification with an unknown recipient_type', { channel: SALON_CHANNEL });
    }
  };

  return {
    name: 'salon',
    contract: '§3',
    routes: [
      {
        method: 'GET',
        path: '/api/v1/notifications/stream',
        summary: 'admin stream: connected, notification, ping (role admin with salon_id)',
        isStream: true,
        handle: async (request) => {
          const principal = await request.authenticate(['admin']);
          const salonId = principal.claims.salon_id;
          if (salonId === undefined || salonId === null || salonId === '') throw new HttpError(403, 'no_salon', 'this admin is not associated with a salon (no salon_id claim)');
          hub.open(request.req, request.res, {
            profile: 'salon',
            path: request.url.pathname,
            principal,
            ip: request.ip,
            groups: [salonGroup(salonId), adminGroup(salonId, principal.userId)],
            scope: { kind: 'admin', salon_id: salonId, user_id: principal.userId },
            heartbeat: ping,
            limit: limitFor(principal.userId),
            initial: connected({ role: 'admin', user_id: idValue(principal.userId), salon_id: salonId }),
          });
        },
      },
      {
        method: 'GET',
        path: '/api/v1/notifications/customer/stream',
        summary: 'customer stream, optional ?salon_id= filter (role customer)',
        isStream: true,
        handle: async (request) => {
          const principal = await request.authenticate(['customer']);
          const filter = request.url.searchParams.get('salon_id');
          if (filter !== null && filter.trim() === '') throw new HttpError(400, 'invalid_query', "'salon_id' must not be empty");
          hub.open(request.req, request.res, {
            profile: 'salon',
            path: request.url.pathname,
            principal,
            ip: request.ip,
            groups: [customerGroup(principal.userId)],
            scope: { kind: 'customer', user_id: principal.userId, salon_filter: filter ?? undefined },
            heartbeat: ping,
            limit: limitFor(principal.userId),
            initial: connected({ role: 'customer', user_id: idValue(principal.userId), salon_id: filter === null ? null : idValue(filter) }),
          });
        },
      },
      {
        method: 'GET',
        path: '/api/v1/notifications/stream/stats',
        summary: 'connection stats JSON (role superadmin)',
        handle: async (request) => {
          await request.authenticate(['superadmin']);
          sendJson(request.res, 200, stats(hub.connections()));
        },
      },
      {
        method: 'POST',
        path: '/api/v1/notifications',
        summary: 'create a notification {recipient_type, recipient_id, salon_id, title, ...} (admin: own salon; superadmin)',
        handle: async (request) => {
          const principal = await request.authenticate(['admin', 'superadmin']);
          const body = await request.readJson();
          const recipientType = body['recipient_type'];
          if (typeof recipientType !== 'string' || !(RECIPIENT_TYPES as readonly string[]).includes(recipientType)) {
            throw new HttpError(400, 'invalid_field', `'recipient_type' must be one of ${RECIPIENT_TYPES.join(', ')}`);
          }
          const ownSalon = principal.claims.salon_id;
          let salonId = field.id(body, 'salon_id', { optional: true }) ?? null;
          if (principal.role === 'admin') {
            if (ownSalon === undefined) throw new HttpError(403, 'no_salon', 'this admin is not associated with a salon (no salon_id claim)');
            if (salonId !== null && String(salonId) !== String(ownSalon)) throw new HttpError(403, 'forbidden', 'an admin may only notify its own salon');
            salonId = ownSalon;
          }
          const recipientId = field.id(body, 'recipient_id', { optional: recipientType === 'salon' }) ?? null;
          if (recipientType !== 'customer' && salonId === null) throw new HttpError(400, 'invalid_field', `'salon_id' is required for recipient_type '${recipientType}'`);
          const extraData = body['extra_data'] ?? {};
          if (extraData === null || typeof extraData !== 'object' || Array.isArray(extraData)) throw new HttpError(400, 'invalid_field', "'extra_data' must be an object");
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
        },
      },
    ],
    start: () => bus.subscribe(SALON_CHANNEL, onMessage),
  };

  function limitFor(userId: string): { key: string; max: number; policy: 'reject' | 'close-oldest' } | undefined {
    // The seed sets no per-user limit; one applies only when --max-streams-per-user is given.
    if (settings.maxStreamsPerUser === undefined) return undefined;
    return { key: `salon:${userId}`, max: settings.maxStreamsPerUser, policy: settings.streamLimitPolicy ?? 'reject' };
  }
};

/**
 * CONTRACTS §3 stats shape. Built from the registry, so with `--fault leak` the closed streams
 * it still holds are counted, exactly like the gauge.
 */
function stats(connections: Iterable<SseConnection>): {
  active_admin_connections: number;
  active_customer_connections: number;
  total_connections: number;
  admins: Array<[number | string, number | string]>;
  customers: Array<number | string>;
} {
  const admins: Array<[number | string, number | string]> = [];
  const customers: Array<number | string> = [];
  for (const connection of connections) {
    if (connection.profile !== 'salon') continue;
    if (connection.scope['kind'] === 'admin') admins.push([idValue(connection.scope['salon_id']), idValue(connection.scope['user_id'])]);
    else customers.push(idValue(connection.scope['user_id']));
  }
  return { active_admin_connections: admins.length, active_customer_connections: customers.length, total_connections: admins.length + customers.length, admins, customers };
}

/** Ids as the seed shows them: numbers when they are numeric (JWT `sub` is always a string). */
function idValue(value: unknown): number | string {
  if (typeof value === 'number') return value;
  const text = String(value);
  return /^-?\d{1,15}$/.test(text) ? Number(text) : text;
}
