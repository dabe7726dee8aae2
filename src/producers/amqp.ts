/**
 * AMQP producer: `amqp://user:pass@host:5672/<exchange>?routingKey=<key>[&vhost=/]` publishes
 * to a RabbitMQ exchange with publisher confirms (seed 004: `crm.domain`, `tasks.events`,
 * `notifications.internal`, `payments.status`). The URL path is the exchange; the vhost comes
 * from `?vhost=` (default `/`).
 */
import type amqp from 'amqplib';
import { ProducerError, UsageError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { Producer, ProducerOptions } from './types.js';

type Connection = Awaited<ReturnType<typeof amqp.connect>>;
type ConfirmChannel = Awaited<ReturnType<Connection['createConfirmChannel']>>;

/** Creates the AMQP producer. */
export function createAmqpProducer(url: URL, options: ProducerOptions): Producer {
  const exchange = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (exchange === '') throw new UsageError(`producer: ${redactUrl(url)} names no exchange`, { hint: 'e.g. amqp://guest:guest@127.0.0.1:5672/crm.domain?routingKey=deal.created' });
  const routingKey = url.searchParams.get('routingKey') ?? url.searchParams.get('routing_key');
  // The seed 004 gateway routes by key (the event type): an empty one is a mistake, not a choice.
  if (routingKey === null || routingKey === '') throw new UsageError(`producer: ${redactUrl(url)} names no routing key`, { hint: 'add ?routingKey=<key>, e.g. ?routingKey=deal.created' });
  const vhost = url.searchParams.get('vhost') ?? '/';
  const connectUrl = new URL(url.href);
  connectUrl.pathname = vhost === '/' ? '' : `/${encodeURIComponent(vhost)}`;
  connectUrl.search = '';
  const description = `publish to exchange ${exchange} (routing key ${JSON.stringify(routingKey)}) on ${redactUrl(connectUrl)}`;
  let connection: Connection | undefined;
  let channel: ConfirmChannel | undefined;
  let channelError: Error | undefined;
  const fail = (error: unknown, what: string, isUnreachable = true): ProducerError =>
    new ProducerError(`${what}: ${description}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { code: isUnreachable ? 'SSEKIT_PRODUCER_UNREACHABLE' : 'SSEKIT_PRODUCER', isUnreachable, cause: error });
  return {
    kind: 'amqp',
    description,
    async open() {
      try {
        const { default: client } = await import('amqplib');
        connection = await client.connect(connectUrl.href, { timeout: options.timeoutMs ?? 10_000 });
      } catch (error) {
        // A wrong user or password is a refusal (4), not an unreachable broker (3).
        const isRefused = error instanceof Error && /ACCESS[-_]REFUSED/.test(error.message);
        throw fail(error, isRefused ? 'RabbitMQ refused the credentials' : 'cannot connect to AMQP', !isRefused);
      }
      connection.on('error', () => {
        // Surfaced through the next publish.
      });
      try {
        channel = await connection.createConfirmChannel();
        channel.on('error', (error: Error) => {
          channelError = error;
        });
        // A missing exchange would close the channel on the first publish; say so up front.
        await channel.checkExchange(exchange);
      } catch (error) {
        await connection.close().catch(() => undefined);
        connection = undefined;
        throw fail(error, `exchange ${exchange} is not there (is its consumer, e.g. ssekit serve --amqp, running?)`, false);
      }
    },
    async publish(body) {
      if (channel === undefined || channelError !== undefined) throw fail(channelError ?? new Error('not connected'), 'AMQP channel closed');
      const open = channel;
      try {
        await new Promise<void>((resolve, reject) => {
          open.publish(exchange, routingKey, Buffer.from(body), { contentType: 'application/json', persistent: false }, (error) => (error ? reject(error as Error) : resolve()));
        });
      } catch (error) {
        throw fail(error, 'publish not confirmed', false);
      }
      return {};
    },
    async close() {
      await channel?.close().catch(() => undefined);
      await connection?.close().catch(() => undefined);
      channel = undefined;
      connection = undefined;
    },
  };
}
