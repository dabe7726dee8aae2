/**
 * Redis producer: `redis://[user:pass@]host:6379/<channel>[?db=N]` PUBLISHes to the channel
 * (seed 000: `admin:events`, which every serve worker subscribes to). The URL path is the
 * channel, not a database number as in ioredis URLs; `?db=` selects a database.
 */
import type { Redis } from 'ioredis';
import { ProducerError, UsageError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { Producer, ProducerOptions } from './types.js';

/** Creates the Redis producer. */
export function createRedisProducer(url: URL, options: ProducerOptions): Producer {
  const channel = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (channel === '') throw new UsageError(`producer: ${redactUrl(url)} names no channel`, { hint: 'e.g. redis://127.0.0.1:6379/admin:events' });
  const db = Number(url.searchParams.get('db') ?? '0');
  const description = `PUBLISH ${channel} on ${redactUrl(`${url.protocol}//${url.username ? `${url.username}:${url.password}@` : ''}${url.host}`)}`;
  let client: Redis | undefined;
  const fail = (error: unknown, what: string): ProducerError =>
    new ProducerError(`${what}: ${description}: ${error instanceof Error ? error.message : String(error)}`, { code: 'SSEKIT_PRODUCER_UNREACHABLE', isUnreachable: true, cause: error, hint: 'is Redis running? check the host and port (redis://host:6379/<channel>)' });
  return {
    kind: 'redis',
    description,
    async open() {
      const { Redis: RedisClient } = await import('ioredis');
      client = new RedisClient({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port || 6379),
        db,
        ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
        ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
        ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: options.timeoutMs ?? 10_000,
        // The producer is short-lived: fail fast instead of reconnecting forever.
        retryStrategy: () => null,
      });
      client.on('error', () => {
        // Reported through the failing command instead.
      });
      try {
        await client.connect();
      } catch (error) {
        client.disconnect();
        client = undefined;
        throw fail(error, 'cannot connect to Redis');
      }
    },
    async publish(body) {
      if (client === undefined) throw fail(new Error('not connected'), 'Redis producer');
      try {
        return { receivers: await client.publish(channel, body) };
      } catch (error) {
        throw fail(error, 'PUBLISH failed');
      }
    },
    async close() {
      if (client !== undefined) {
        await client.quit().catch(() => client?.disconnect());
        client = undefined;
      }
    },
  };
}
