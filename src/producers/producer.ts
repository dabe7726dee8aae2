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

/** Picks the producer from the URL scheme: http(s)://, redis(s)://, amqp(s)://. */
export function createProducer(urlText: string, options: ProducerOptions): Producer {
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new UsageError(`producer: '${urlText}' is not a URL`, { hint: 'http://host/orders, redis://host:6379/<channel> or amqp://user:pass@host:5672/<exchange>?routingKey=<key>' });
  }
  switch (url.protocol) {
    case 'http:':
    case 'https:':
      return createHttpProducer(url, options);
    case 'redis:':
    case 'rediss:':
      return createRedisProducer(url, options);
    case 'amqp:':
    case 'amqps:':
      return createAmqpProducer(url, options);
    default:
      throw new UsageError(`producer: '${url.protocol}' is not supported`, { hint: 'use http(s)://, redis://, or amqp://' });
  }
}
