/**
 * One interface for everything that can make a backend emit an event. `publish` throws
 * `ProducerError`; the caller decides whether that ends the run or is counted.
 */
import type { Dispatcher } from 'undici';
import type { TokenPlacement } from '../transport/auth.js';

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
