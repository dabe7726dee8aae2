/**
 * Profile `store`: CONTRACTS §4 (seed 003), a store's live order list.
 *
 * - `GET /admin/orders/sse` (role admin with a `store_id` claim): `event: initial` with the
 *   store's full order list (a JSON array) first, then `order_created` (the order),
 *   `order_updated` {order_id, status}, `order_deleted` {order_id, table_id},
 *   `session_ended` {table_id, session_id}; `: ping` after a heartbeat interval without events
 *   (the seed's `wait_for(queue.get(), timeout=30)`).
 * - Producers, scoped to the token's `store_id` (role admin or store): `POST /admin/orders`,
 *   `PATCH /admin/orders/{order_id}` {status}, `DELETE /admin/orders/{order_id}`,
 *   `POST /admin/sessions/end` {table_id, session_id}.
 * - The order list is applied from bus messages, not from the producer request, so with
 *   `--redis` every process holds the same list and sends the same `initial`.
 */
import { encodeComment, encodeJsonEvent } from '../encode.js';
import { field, HttpError, sendJson, viaBroker } from '../http.js';
import type { Principal } from '../auth.js';
import type { ProfileFactory } from '../profile.js';

/** Bus channel for store events (one per profile). */
export const STORE_CHANNEL = 'ssekit:store:orders';

const PING = Buffer.from(encodeComment(' ping'));
const EVENT_TYPES = new Set(['order_created', 'order_updated', 'order_deleted', 'session_ended']);

type Id = number | string;
type Order = Record<string, unknown> & { order_id: Id; table_id: Id; session_id: Id | null; status: string };

/** A bus message: which store, which event, its payload. */
interface StoreMessage {
  readonly store_id: Id;
  readonly event: string;
  readonly data: Record<string, unknown>;
}

const storeGroup = (storeId: unknown): string => `store:${String(storeId)}`;

/** Mounts CONTRACTS §4. */
export const createStoreProfile: ProfileFactory = ({ hub, bus, metrics, log, settings }) => {
  const heartbeat = { intervalMs: settings.heartbeatMs, isIdleBased: true, frame: () => PING };
  /** store id → order id → order, in creation order (Map keeps insertion order). */
  const orders = new Map<string, Map<string, Order>>();
  const ordersOf = (storeId: unknown): Map<string, Order> => {
    const key = String(storeId);
    let list = orders.get(key);
    if (!list) {
      list = new Map();
      orders.set(key, list);
    }
    return list;
  };

  const apply = (message: StoreMessage): void => {
    const list = ordersOf(message.store_id);
    const data = message.data;
    const orderKey = String(data['order_id']);
    switch (message.event) {
      case 'order_created':
        list.set(orderKey, data as Order);
        break;
      case 'order_updated': {
        const order = list.get(orderKey);
        if (order) order.status = String(data['status']);
        break;
      }
      case 'order_deleted':
        list.delete(orderKey);
        break;
      case 'session_ended':
        // The table is cleared: its session's orders leave the live list.
        for (const [key, order] of list) {
          if (String(order.table_id) === String(data['table_id']) && String(order.session_id) === String(data['session_id'])) list.delete(key);
        }
        break;
    }
  };

  const onMessage = (raw: string): void => {
    let message: StoreMessage;
    try {
      message = JSON.parse(raw) as StoreMessage;
    } catch {
      log('warn', 'ignored a non-JSON message', { channel: STORE_CHANNEL, bytes: raw.length });
      return;
    }
    if (!EVENT_TYPES.has(message.event) || message.data === null || typeof message.data !== 'object') {
      log('warn', 'ignored a store message of unknown shape', { channel: STORE_CHANNEL });
      return;
    }
    apply(message);
    metrics.eventsEmitted.inc({ event_type: message.event });
    hub.broadcast(storeGroup(message.store_id), Buffer.from(encodeJsonEvent(message.event, message.data)));
  };

  const storeOf = (principal: Principal): Id => {
    const storeId = principal.claims.store_id;
    if (storeId === undefined || storeId === null || storeId === '') throw new HttpError(403, 'no_store', 'this token has no store_id claim');
    return storeId;
  };

  const publish = (storeId: Id, event: string, data: Record<string, unknown>): Promise<void> =>
    viaBroker(() => bus.publish(STORE_CHANNEL, JSON.stringify({ store_id: storeId, event, data })));

  const existing = (storeId: Id, orderId: string): Order => {
    const order = ordersOf(storeId).get(orderId);
    if (!order) throw new HttpError(404, 'order_not_found', `no order ${orderId} in store ${String(storeId)}`);
    return order;
  };

  return {
    name: 'store',
    contract: '§4',
    routes: [
      {
        method: 'GET',
        path: '/admin/orders/sse',
        summary: 'stream: initial, order_created/updated/deleted, session_ended, ": ping" (role admin with store_id)',
        isStream: true,
        handle: async (request) => {
          const principal = await request.authenticate(['admin']);
          const storeId = storeOf(principal);
          hub.open(request.req, request.res, {
            profile: 'store',
            path: request.url.pathname,
            principal,
            ip: request.ip,
            groups: [storeGroup(storeId)],
            scope: { store_id: storeId },
            heartbeat,
            limit: settings.maxStreamsPerUser === undefined ? undefined : { key: `store:${principal.userId}`, max: settings.maxStreamsPerUser, policy: settings.streamLimitPolicy ?? 'reject' },
            initial: encodeJsonEvent('initial', [...ordersOf(storeId).values()]),
          });
        },
      },
      {
        method: 'POST',
        path: '/admin/orders',
        summary: 'create an order {table_id, session_id?, items?} → order_created (role admin or store)',
        handle: async (request) => {
          const principal = await request.authenticate(['admin', 'store']);
          const storeId = storeOf(principal);
          const body = await request.readJson();
          const tableId = field.id(body, 'table_id') as Id;
          const items = body['items'] ?? [];
          if (!Array.isArray(items)) throw new HttpError(400, 'invalid_field', "'items' must be an array");
          const order: Order = {
            ...body,
            order_id: await viaBroker(() => bus.nextId('store:order')),
            store_id: storeId,
            table_id: tableId,
            session_id: field.id(body, 'session_id', { optional: true }) ?? null,
            status: 'pending',
            items,
            created_at: new Date().toISOString(),
          };
          await publish(storeId, 'order_created', order);
          sendJson(request.res, 201, order);
        },
      },
      {
        method: 'PATCH',
        path: '/admin/orders/{order_id}',
        summary: 'change an order status {status} → order_updated',
        handle: async (request) => {
          const storeId = storeOf(await request.authenticate(['admin', 'store']));
          const body = await request.readJson();
          const status = field.string(body, 'status') as string;
          const order = existing(storeId, request.params['order_id'] ?? '');
          const data = { order_id: order.order_id, status };
          await publish(storeId, 'order_updated', data);
          sendJson(request.res, 200, data);
        },
      },
      {
        method: 'DELETE',
        path: '/admin/orders/{order_id}',
        summary: 'delete an order → order_deleted',
        handle: async (request) => {
          const storeId = storeOf(await request.authenticate(['admin', 'store']));
          const order = existing(storeId, request.params['order_id'] ?? '');
          const data = { order_id: order.order_id, table_id: order.table_id };
          await publish(storeId, 'order_deleted', data);
          sendJson(request.res, 200, data);
        },
      },
      {
        method: 'POST',
        path: '/admin/sessions/end',
        summary: 'end a table session {table_id, session_id} → session_ended',
        handle: async (request) => {
          const storeId = storeOf(await request.authenticate(['admin', 'store']));
          const body = await request.readJson();
          const data = { table_id: field.id(body, 'table_id') as Id, session_id: field.id(body, 'session_id') as Id };
          await publish(storeId, 'session_ended', data);
          sendJson(request.res, 200, data);
        },
      },
    ],
    start: () => bus.subscribe(STORE_CHANNEL, onMessage),
  };
};
