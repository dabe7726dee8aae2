/**
 * Fan-out between producers and streams (issue 3 "Fan-out across workers").
 *
 * Producers never write to streams directly: they publish a message on a channel, and each
 * profile subscribes and turns messages into frames. In-process, publish calls the subscribers
 * at once. With `--workers`, messages go through the primary process (`cluster/primary-bus.ts`).
 * With `--redis`, messages go through Redis pub/sub (CONTRACTS §1: channel `admin:events`), so
 * several `ssekit serve` processes deliver every event to every client, and ids come from Redis
 * INCR so they stay unique across processes.
 */
import type { Redis as RedisClient } from 'ioredis';
import { ConnectError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { ServeLogger } from './log.js';

/** How a message reached a subscriber. */
export interface BusDelivery {
  /**
   * The message's number on its channel (1, 2, 3, ...), the same in every process, when the bus
   * orders messages itself (in memory, or the --workers primary); undefined with Redis.
   */
  readonly seq: number | undefined;
  /**
   * True for a message from before this process subscribed (a replacement `--workers` worker
   * catching up): apply it to state (the gateway's replay ring, the store's order lists), but do
   * not count or deliver it again.
   */
  readonly isReplay: boolean;
  /**
   * Count the event in `admin_events_emitted_total` here. With `--workers` every worker gets every
   * message, and exactly one counts it (the one it was published on; with `--redis`, worker 1), so
   * the counter summed over workers is the server's.
   */
  readonly countsHere: boolean;
}

/** A subscriber. */
export type BusHandler = (message: string, delivery: BusDelivery) => void;

/** Where events travel between producers and streams. */
export interface EventBus {
  /**
   * `memory` (one process), `primary` (the workers of one `serve --workers`, through the primary
   * process) or `redis` (every process subscribed to the same Redis).
   */
  readonly kind: 'memory' | 'primary' | 'redis';
  /** Publishes one message; resolves once the broker accepted it. */
  readonly publish: (channel: string, message: string) => Promise<void>;
  /** Calls `onMessage` for every message on `channel` (from this process or another). */
  readonly subscribe: (channel: string, onMessage: BusHandler) => Promise<void>;
  /** Next value of a named counter (1, 2, 3, ...): server-assigned ids. */
  readonly nextId: (counter: string) => Promise<number>;
  readonly close: () => Promise<void>;
}

/** One-process bus: publish delivers synchronously to the subscribers. */
export function createMemoryBus(): EventBus {
  const handlers = new Map<string, BusHandler[]>();
  const counters = new Map<string, number>();
  const sequences = new Map<string, number>();
  return {
    kind: 'memory',
    publish: async (channel, message) => {
      const seq = (sequences.get(channel) ?? 0) + 1;
      sequences.set(channel, seq);
      for (const handler of handlers.get(channel) ?? []) handler(message, { seq, isReplay: false, countsHere: true });
    },
    subscribe: async (channel, onMessage) => {
      const list = handlers.get(channel) ?? [];
      list.push(onMessage);
      handlers.set(channel, list);
    },
    nextId: async (counter) => {
      const next = (counters.get(counter) ?? 0) + 1;
      counters.set(counter, next);
      return next;
    },
    close: async () => {
      handlers.clear();
    },
  };
}


/** Options for {@link createRedisBus}. */
export interface RedisBusOptions {
  readonly url: string;
  /** How long to wait for the first connection before giving up (ms). Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Warnings after start-up (connection lost, resubscribed); never contains credentials. */
  readonly onWarning?: (message: string) => void;
  /** Whether this process counts the events it relays (`BusDelivery.countsHere`). Default true. */
  readonly countsHere?: boolean;
}

/**
 * Redis pub/sub bus: one connection publishes (and INCRs ids), one subscribes. Fails fast with
 * a ConnectError (exit 3) if Redis is unreachable at start-up; afterwards ioredis reconnects
 * and resubscribes by itself, and a publish while Redis is down fails the producer request.
 */
export async function createRedisBus(options: RedisBusOptions): Promise<EventBus> {
  const safeUrl = redactUrl(options.url);
  const common = {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 5000,
    // Fail a command rather than queue it for ever while Redis is away: producers get a 503.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (attempt: number) => Math.min(attempt * 200, 2000),
  };
  // Loaded on demand: most serve runs need no Redis, and the CLI starts faster without it.
  const { Redis } = await import('ioredis');
  const publisher: RedisClient = new Redis(options.url, common);
  const subscriber: RedisClient = new Redis(options.url, common);
  const handlers = new Map<string, BusHandler[]>();
  let hasWarned = false;
  const onError = (error: Error): void => {
    // ioredis emits an error per failed reconnect; one warning per outage is enough.
    if (!hasWarned) options.onWarning?.(`redis ${safeUrl}: ${error.message}`);
    hasWarned = true;
  };
  publisher.on('error', onError);
  subscriber.on('error', onError);
  subscriber.on('ready', () => {
    hasWarned = false;
  });
  const delivery: BusDelivery = { seq: undefined, isReplay: false, countsHere: options.countsHere ?? true };
  subscriber.on('message', (channel: string, message: string) => {
    for (const handler of handlers.get(channel) ?? []) handler(message, delivery);
  });
  try {
    await Promise.all([publisher.connect(), subscriber.connect()]);
  } catch (error) {
    publisher.disconnect();
    subscriber.disconnect();
    throw new ConnectError(`cannot connect to Redis at ${safeUrl}`, { cause: error, hint: 'is Redis running? check --redis' });
  }
  return {
    kind: 'redis',
    publish: async (channel, message) => {
      await publisher.publish(channel, message);
    },
    subscribe: async (channel, onMessage) => {
      const list = handlers.get(channel);
      if (list) {
        list.push(onMessage);
        return;
      }
      handlers.set(channel, [onMessage]);
      await subscriber.subscribe(channel);
    },
    nextId: async (counter) => publisher.incr(`ssekit:serve:id:${counter}`),
    close: async () => {
      handlers.clear();
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

/**
 * A bus message as JSON, or undefined (logged) when it is not JSON: any producer may publish on a
 * channel directly (CONTRACTS §1's `admin:events`), and what is not JSON is never forwarded.
 */
export function parseBusJson(raw: string, channel: string, log: ServeLogger): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    log('warn', 'ignored a non-JSON message', { channel, bytes: raw.length });
    return undefined;
  }
}
