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
 *   `--redis` or `--workers` every process holds the same list and sends the same `initial`; a
 *   replacement worker rebuilds it from the primary's history of the channel (the last 10,000
 *   messages: exact while the channel has carried no more than that).
 */
import { parseBusJson, type BusDelivery } from '../bus.js';
import { encodeComment, encodeJsonEvent } from '../encode.js';
import { field, HttpError, sendJson, viaBroker } from '../http.js';
import type { Principal } from '../auth.js';
import type { HeartbeatSpec } from '../hub-stream.js';
import type { Profile, ProfileContext, ProfileFactory, Route, RouteMethod, RouteRequest } from '../profile.js';
import { userStreamLimit } from '../profile.js';

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
export const createStoreProfile: ProfileFactory = (context) => new StoreProfile(context).profile();

/** Every store's live order list: store id → order id → order, in creation order (Map order). */
class OrderBook {
  private readonly stores = new Map<string, Map<string, Order>>();

  ordersOf(storeId: unknown): Map<string, Order> {
    const key = String(storeId);
    let list = this.stores.get(key);
    if (!list) {
      list = new Map();
      this.stores.set(key, list);
    }
    return list;
  }

  /** The order a producer names, or 404. */
  existing(storeId: Id, orderId: string): Order {
    const order = this.ordersOf(storeId).get(orderId);
    if (!order) throw new HttpError(404, 'order_not_found', `no order ${orderId} in store ${String(storeId)}`);
    return order;
  }

  apply(message: StoreMessage): void {
    const list = this.ordersOf(message.store_id);
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
  }
}

/** The profile's routes and bus handler over its order book. */
class StoreProfile {
  private readonly context: ProfileContext;
  private readonly book = new OrderBook();
  private readonly heartbeat: HeartbeatSpec;

  constructor(context: ProfileContext) {
    this.context = context;
    this.heartbeat = { intervalMs: context.settings.heartbeatMs, isIdleBased: true, frame: () => PING };
  }

  profile(): Profile {
    return {
      name: 'store',
      contract: '§4',
      routes: [
        {
          method: 'GET',
          path: '/admin/orders/sse',
          summary: 'stream: initial, order_created/updated/deleted, session_ended, ": ping" (role admin with store_id)',
          isStream: true,
          handle: (request) => this.openOrderStream(request),
        },
        this.producerRoute('POST', '/admin/orders', 'create an order {table_id, session_id?, items?} → order_created (role admin or store)', 'order_created', 201, (request, storeId) => this.createOrder(request, storeId)),
        this.producerRoute('PATCH', '/admin/orders/{order_id}', 'change an order status {status} → order_updated', 'order_updated', 200, (request, storeId) => this.updateOrder(request, storeId)),
        this.producerRoute('DELETE', '/admin/orders/{order_id}', 'delete an order → order_deleted', 'order_deleted', 200, async (request, storeId) => {
          const order = this.book.existing(storeId, request.params['order_id'] ?? '');
          return { order_id: order.order_id, table_id: order.table_id };
        }),
        this.producerRoute('POST', '/admin/sessions/end', 'end a table session {table_id, session_id} → session_ended', 'session_ended', 200, async (request) => {
          const body = await request.readJson();
          return { table_id: field.id(body, 'table_id') as Id, session_id: field.id(body, 'session_id') as Id };
        }),
      ],
      start: () => this.context.bus.subscribe(STORE_CHANNEL, (raw, delivery) => this.onMessage(raw, delivery)),
    };
  }

  private async openOrderStream(request: RouteRequest): Promise<void> {
    const principal = await request.authenticate(['admin']);
    const storeId = storeOf(principal);
    await this.context.openStream(request, principal, {
      groups: [storeGroup(storeId)],
      scope: { store_id: storeId },
      heartbeat: this.heartbeat,
      // The seed sets no per-user limit; one applies only when --max-streams-per-user is given.
      limit: userStreamLimit(this.context.settings, `store:${principal.userId}`, { policy: 'reject' }),
      initial: () => encodeJsonEvent('initial', [...this.book.ordersOf(storeId).values()]),
    });
  }

  /**
   * A producer route (role admin or store, scoped to the token's store): `build` validates the
   * request and returns the event's data, which is published and answered with `status`. The
   * order book changes when the message comes back from the bus, so with `--redis` or
   * `--workers` every process applies the same messages in the same order.
   */
  private producerRoute(method: RouteMethod, path: string, summary: string, event: string, status: number, build: (request: RouteRequest, storeId: Id) => Promise<Record<string, unknown>>): Route {
    return {
      method,
      path,
      summary,
      handle: async (request) => {
        const storeId = storeOf(await request.authenticate(['admin', 'store']));
        const data = await build(request, storeId);
        await viaBroker(() => this.context.bus.publish(STORE_CHANNEL, JSON.stringify({ store_id: storeId, event, data })));
        sendJson(request.res, status, data);
      },
    };
  }

  private async createOrder(request: RouteRequest, storeId: Id): Promise<Record<string, unknown>> {
    const body = await request.readJson();
    const tableId = field.id(body, 'table_id') as Id;
    const items = body['items'] ?? [];
    if (!Array.isArray(items)) throw new HttpError(400, 'invalid_field', "'items' must be an array");
    return {
      ...body,
      order_id: await viaBroker(() => this.context.bus.nextId('store:order')),
      store_id: storeId,
      table_id: tableId,
      session_id: field.id(body, 'session_id', { optional: true }) ?? null,
      status: 'pending',
      items,
      created_at: new Date().toISOString(),
    };
  }

  private async updateOrder(request: RouteRequest, storeId: Id): Promise<Record<string, unknown>> {
    const body = await request.readJson();
    const status = field.string(body, 'status') as string;
    const order = this.book.existing(storeId, request.params['order_id'] ?? '');
    return { order_id: order.order_id, status };
  }

  /** Applies a message to the order book and, unless it is a replacement worker's catch-up (`isReplay`), sends it. */
  private onMessage(raw: string, delivery: BusDelivery): void {
    const { log, metrics, hub } = this.context;
    const message = parseBusJson(raw, STORE_CHANNEL, log) as StoreMessage | null | undefined;
    if (message === undefined) return;
    if (message === null || typeof message !== 'object' || !EVENT_TYPES.has(message.event) || message.data === null || typeof message.data !== 'object') {
      log('warn', 'ignored a store message of unknown shape', { channel: STORE_CHANNEL });
      return;
    }
    this.book.apply(message);
    if (delivery.isReplay) return;
    if (delivery.countsHere) metrics.eventsEmitted.inc({ event_type: message.event });
    hub.broadcast(storeGroup(message.store_id), Buffer.from(encodeJsonEvent(message.event, message.data)));
  }
}

function storeOf(principal: Principal): Id {
  const storeId = principal.claims.store_id;
  if (storeId === undefined || storeId === null || storeId === '') throw new HttpError(403, 'no_store', 'this token has no store_id claim');
  return storeId;
}
