/**
 * Profile `admin-orders`: CONTRACTS §1 (seed 000), order dispatch admin events.
 *
 * - `GET /api/admin/events`, role `admin`, token as Bearer or `?token=`.
 * - Frames are `data: {"event":"order.created","data":{...}}` with NO `event:` field, exactly
 *   as the seed's sample server writes them: the type lives inside the JSON.
 * - `:keepalive` comment every heartbeat interval; `X-Reconnect-Delay: 3000`.
 * - At most 1 stream per admin (`--max-streams-per-user`). Our choice over the limit: the OLDER
 *   stream is ended (after a `: stream_limit` comment) and the new one is served, because a
 *   client reconnecting after a drop the server has not noticed yet must not be locked out by
 *   its own ghost; `--stream-limit-policy reject` answers 409 `{"code":"stream_limit"}` instead.
 * - `POST /orders` (role admin or store) assigns the id and publishes the seed's JSON on the
 *   bus channel `admin:events`; every process subscribed (Redis) forwards it to its streams.
 */
import { parseBusJson, type BusDelivery } from '../bus.js';
import { encodeComment, encodeFrame } from '../encode.js';
import { field, sendJson, viaBroker } from '../http.js';
import type { ProfileFactory } from '../profile.js';
import { userStreamLimit } from '../profile.js';

/** CONTRACTS §1: the Redis channel every worker subscribes to. */
export const ADMIN_EVENTS_CHANNEL = 'admin:events';

const GROUP = 'admin-orders';
const KEEPALIVE = Buffer.from(encodeComment('keepalive'));
const KNOWN_FIELDS = new Set(['order_id', 'pickup_address', 'delivery_address', 'boxes_count', 'created_at']);

/** Mounts CONTRACTS §1. */
export const createAdminOrdersProfile: ProfileFactory = ({ hub, bus, metrics, log, settings, openStream }) => {
  const heartbeat = { intervalMs: settings.heartbeatMs, isIdleBased: false, frame: () => KEEPALIVE };

  const onMessage = (message: string, delivery: BusDelivery): void => {
    // A replacement worker's catch-up: these events were delivered when they happened.
    if (delivery.isReplay) return;
    // Another producer may publish on admin:events directly; never forward what is not JSON.
    const parsed = parseBusJson(message, ADMIN_EVENTS_CHANNEL, log);
    if (parsed === undefined) return;
    let eventType = 'unknown';
    if (parsed !== null && typeof parsed === 'object') {
      const record = parsed as Record<string, unknown>;
      const type = record['event'] ?? record['type'];
      if (typeof type === 'string' && type !== '') eventType = type;
    }
    if (delivery.countsHere) metrics.eventsEmitted.inc({ event_type: eventType });
    // Forwarded as is, like the seed's `yield f"data: {message['data']}\n\n"`; encodeFrame
    // splits a pretty-printed message into several data: lines, which clients join back.
    hub.broadcast(GROUP, Buffer.from(encodeFrame({ data: message })));
  };

  return {
    name: 'admin-orders',
    contract: '§1',
    routes: [
      {
        method: 'GET',
        path: '/api/admin/events',
        summary: 'stream: order.created in data JSON, :keepalive (role admin; Bearer or ?token=)',
        isStream: true,
        handle: async (request) => {
          const principal = await request.authenticate(['admin']);
          await openStream(request, principal, {
            groups: [GROUP],
            heartbeat,
            headers: { 'X-Reconnect-Delay': '3000' },
            limit: userStreamLimit(settings, `admin-orders:${principal.userId}`, { max: 1, policy: 'close-oldest' }),
          });
        },
      },
      {
        method: 'POST',
        path: '/orders',
        summary: 'create an order {pickup_address, delivery_address, boxes_count} (role admin or store)',
        handle: async (request) => {
          await request.authenticate(['admin', 'store']);
          const body = await request.readJson();
          const pickup = field.string(body, 'pickup_address') as string;
          const delivery = field.string(body, 'delivery_address') as string;
          const boxes = field.positiveInt(body, 'boxes_count');
          // Unknown fields are kept after the seed's ones, so a producer can add a marker.
          const extra = Object.fromEntries(Object.entries(body).filter(([name]) => !KNOWN_FIELDS.has(name)));
          const order = {
            order_id: await viaBroker(() => bus.nextId('admin-orders:order')),
            pickup_address: pickup,
            delivery_address: delivery,
            boxes_count: boxes,
            created_at: new Date().toISOString(),
            ...extra,
          };
          await viaBroker(() => bus.publish(ADMIN_EVENTS_CHANNEL, JSON.stringify({ event: 'order.created', data: order })));
          sendJson(request.res, 201, order);
        },
      },
    ],
    start: () => bus.subscribe(ADMIN_EVENTS_CHANNEL, onMessage),
  };
};
