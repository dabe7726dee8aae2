/**
 * The event bodies `publish` and `bench --publish` send when none is given: shaped like the
 * seeds, each with the `{{nonce}}` marker deliveries are matched by.
 */
import { producerKindOf } from './producer.js';
import type { Producer } from './types.js';

/** Default bodies per producer kind. */
export const DEFAULT_BODIES: Readonly<Record<Producer['kind'], string>> = {
  // Seed 000: POST /orders; the broadcast carries pickup_address, so the marker travels in it.
  http: '{"pickup_address":"ssekit {{nonce}}","delivery_address":"Customer Street 45","boxes_count":1}',
  // Seed 000: what orders.py PUBLISHes to admin:events.
  redis: '{"event":"order.created","data":{"order_id":{{seq}},"pickup_address":"ssekit {{nonce}}","delivery_address":"Customer Street 45","boxes_count":1,"created_at":"{{now}}"}}',
  // Seed 004: a crm.domain deal.created payload (the routing key is the event type).
  amqp: '{"deal_id":"{{uuid}}","client_id":"{{uuid}}","title":"ssekit {{nonce}}","status":"draft","created_at":"{{now}}"}',
};

/** The default body for a producer URL; a path (`/orders`, relative to a bench target) is HTTP. */
export function defaultBodyFor(producer: string): string {
  return DEFAULT_BODIES[producer.startsWith('/') ? 'http' : producerKindOf(producer)];
}
