/**
 * What a successful publish may still say: a Redis PUBLISH returns how many subscribers got the
 * message, and 0 means no server listens on that channel (every event will be "lost" for a
 * reason the backend never saw).
 */
import type { ProduceResult, Producer } from './types.js';

/** A one-line notice for a publish that reached nobody; undefined when there is nothing to say. */
export function receiptNotice(producer: Producer, result: ProduceResult): string | undefined {
  if (producer.kind !== 'redis' || result.receivers !== 0) return undefined;
  return `${producer.description} reached 0 subscribers: no server is subscribed to this channel (is it the channel the backend listens on?)`;
}
