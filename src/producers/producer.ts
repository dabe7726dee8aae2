/**
 * One interface for everything that can make a backend emit an event: an HTTP request (seed
 * 000's POST /orders), a Redis PUBLISH (seed 000's `admin:events`) or an AMQP publish (seed
 * 004's exchanges). `publish` throws `ProducerError`; the caller decides whether that ends the
 * run or is counted.
 */
import type { Dispatcher } from 'undici';
import { UsageError } from '../core/errors.js';
import type { TokenPlacement } from '../transport/auth.js';
import { createAmqpProducer } from './amqp.js';
import { createHttpProducer } from './http.js';
import { createRedisProducer } from './redis.js';

/** What one publish returned. */
export interface ProduceResult {
  /** The response body (HTTP), for id correlation. */
  readonly responseText?: string | undefined;
  /** Redis: how many subscribers received the message. */
  readonly receivers?: number | undefined;
}

/** A connected producer. */
export interface Producer {
  readonly kind: 'http' | 'redis' | 'amqp';
  /** Where it publishes, redacted, for reports. */
  readonly description: string;
  /** Connects (brokers); throws `ProducerError` (unreachable → exit 3). */
  open(): Promise<void>;
  publish(body: string): Promise<ProduceResult>;
  close(): Promise<void>;
}

/** Options shared by producers. */
export interface ProducerOptions {
  /** HTTP only. */
  readonly method?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly token?: TokenPlacement | undefined;
  readonly dispatcher: Dispatcher;
  /** Time allowed for one publish, ms (default 10 000). */
  readonly timeoutMs?: number | undefined;
}

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
