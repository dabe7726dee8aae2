/**
 * Picks and builds the producer for a URL: an HTTP request (seed 000's POST /orders), a Redis
 * PUBLISH (seed 000's `admin:events`) or an AMQP publish (seed 004's exchanges). The interface
 * they share is in `types.ts`.
 */
import { UsageError } from '../core/errors.js';
import { createAmqpProducer } from './amqp.js';
import { createHttpProducer } from './http.js';
import { createRedisProducer } from './redis.js';
import type { Producer, ProducerOptions } from './types.js';

/** The producer kind for a URL (validates it): http(s)://, redis(s)://, amqp(s)://. */
export function producerKindOf(urlText: string): Producer['kind'] {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new UsageError(`producer: '${urlText}' is not a URL`, { hint: 'http://host/orders, redis://host:6379/<channel> or amqp://user:pass@host:5672/<exchange>?routingKey=<key>' });
  }
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return 'http';
    case 'redis:':
    case 'rediss:':
      return 'redis';
    case 'amqp:':
    case 'amqps:':
      return 'amqp';
    default:
      throw new UsageError(`producer: '${url.protocol}' is not supported`, { hint: 'use http(s)://, redis://, or amqp://' });
  }
}

/** Creates the producer for a URL (nothing connects before `open`). */
export function createProducer(urlText: string, options: ProducerOptions): Producer {
  const kind = producerKindOf(urlText);
  const url = new URL(urlText);
  if (kind === 'http') return createHttpProducer(url, options);
  if (kind === 'redis') return createRedisProducer(url, options);
  return createAmqpProducer(url, options);
}
