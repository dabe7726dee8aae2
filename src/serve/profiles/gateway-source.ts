/**
 * The gateway's RabbitMQ source (CONTRACTS §5, seed 004): consumes the domain exchanges and hands
 * every message to the gateway profile, which relays it to SSE.
 *
 * - Each exchange (`crm.domain`, `tasks.events`, `notifications.internal`, `payments.status`) is
 *   declared as a durable `topic` exchange: the seed's producers own long-lived domain exchanges,
 *   and a durable one survives a broker restart, so a producer never finds it missing. If an
 *   exchange already exists with other settings (another type, not durable), the 406 is logged
 *   and the exchange is used as it is.
 * - Each process binds its own exclusive, auto-delete, server-named queue per exchange with
 *   routing key `#` (every message), consumed with `noAck`. Several `ssekit serve --amqp`
 *   processes therefore each get every message: fan-out across processes is RabbitMQ's. The
 *   workers of one `serve --workers` share one queue per exchange instead (`sharedQueuePrefix`),
 *   with a single active consumer: one worker gets each message, in order, and passes it to the
 *   others through the primary; if that worker goes, RabbitMQ makes another one the consumer.
 * - Connection recovery is amqplib's own (`recovery`): reconnect with exponential backoff
 *   (250 ms doubling to 5 s, ±20% jitter), for ever, and re-run the setup above after each
 *   connect. A channel that closes under a live connection closes the connection, so the same
 *   recovery path takes over. AMQP heartbeats (10 s unless the URL sets `?heartbeat=`) detect a
 *   broker that vanished without closing the socket.
 * - State changes (`up` once the queues are bound, `down` on a failed attempt or a lost
 *   connection) go to `onStateChange`; the profile turns `down` into `source_unavailable`.
 */
import type { Channel, ChannelModel, ConsumeMessage, RecoveringChannelModel } from 'amqplib';
import { redactUrl } from '../../core/redact.js';
import type { ServeLogger } from '../log.js';

/** Whether the source is usable. `connecting` only before the first attempt has an outcome. */
export type SourceState = 'connecting' | 'up' | 'down';

/** Options for {@link createAmqpSource}. */
export interface AmqpSourceOptions {
  readonly url: string;
  /** Exchange name → the gateway channel its messages go to. */
  readonly exchanges: Readonly<Record<string, string>>;
  /** One consumed message: its channel, routing key and body bytes. */
  readonly onMessage: (channel: string, routingKey: string, body: Buffer) => void;
  /** Called on every transition (`connecting` → `up` / `down`, `up` ↔ `down`). */
  readonly onStateChange: (state: SourceState) => void;
  readonly log: ServeLogger;
  /** First reconnect delay (ms). Default 250. */
  readonly initialDelayMs?: number;
  /** Largest reconnect delay (ms). Default 5000. */
  readonly maxDelayMs?: number;
  /** How long `start` waits for the first attempt's outcome (ms). Default 5000. */
  readonly startWaitMs?: number;
  /**
   * `--workers`: consume from queues named `<prefix>.<exchange>`, shared by the workers of one
   * server (one active consumer at a time), instead of one exclusive queue per process.
   */
  readonly sharedQueuePrefix?: string;
}

/** A running consumer. */
export interface AmqpSource {
  /** Begins connecting; resolves once the first attempt succeeded or failed (or `startWaitMs` passed). Never rejects. */
  readonly start: () => Promise<void>;
  readonly state: () => SourceState;
  /** Stops consuming and reconnecting. Idempotent. */
  readonly close: () => Promise<void>;
}

const DEFAULT_HEARTBEAT_S = '10';

/** Creates the consumer; nothing happens until `start`. */
export function createAmqpSource(options: AmqpSourceOptions): AmqpSource {
  const source = new AmqpConsumer(options);
  return { start: () => source.start(), state: () => source.state, close: () => source.close() };
}

/** The consumer's state: the recovering connection and the source state it reports. */
class AmqpConsumer {
  state: SourceState = 'connecting';
  private readonly options: AmqpSourceOptions;
  private readonly safeUrl: string;
  private recovering: RecoveringChannelModel | undefined;
  private isClosed = false;
  private onFirstOutcome: (() => void) | undefined;

  constructor(options: AmqpSourceOptions) {
    this.options = options;
    this.safeUrl = redactUrl(options.url);
  }

  async start(): Promise<void> {
    if (this.recovering !== undefined || this.isClosed) return;
    const firstOutcome = new Promise<void>((resolve) => {
      this.onFirstOutcome = resolve;
    });
    // Loaded on demand (only with --amqp): a faster start for everything else.
    const { default: amqp } = await import('amqplib');
    const recovering = await amqp.connect(withHeartbeat(this.options.url), {
      timeout: 5000,
      recovery: {
        initialDelay: this.options.initialDelayMs ?? 250,
        maxDelay: this.options.maxDelayMs ?? 5000,
        factor: 2,
        jitter: 0.2,
        waitForConnect: false,
        setup: (model: ChannelModel) => this.setup(model),
      },
    });
    this.recovering = recovering;
    // amqplib defers the first attempt to the next macrotask, so these listeners see it.
    recovering.on('connect', () => this.setState('up'));
    recovering.on('connect-failed', (error: Error) => this.setState('down', error));
    recovering.on('disconnect', (error: Error) => this.setState('down', error));
    // Connection errors are followed by 'disconnect'; without a listener they would throw.
    recovering.on('error', () => undefined);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.startWaitMs ?? 5000);
      timer.unref();
    });
    await Promise.race([firstOutcome, waited]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    const model = this.recovering;
    this.recovering = undefined;
    await model?.close().catch(() => undefined);
  }

  private setState(next: SourceState, error?: Error): void {
    this.onFirstOutcome?.();
    if (next === this.state) return;
    this.state = next;
    if (next === 'up') this.options.log('info', 'gateway source connected', { source: this.safeUrl, exchanges: Object.keys(this.options.exchanges) });
    else this.options.log('warn', 'gateway source unavailable', { source: this.safeUrl, error: oneLine(error) });
    this.options.onStateChange(next);
  }

  /** Runs after every (re)connect: exchanges, one queue per exchange, consumers. */
  private async setup(model: ChannelModel): Promise<void> {
    let channel = await openChannel(model);
    for (const exchange of Object.keys(this.options.exchanges)) {
      try {
        await channel.assertExchange(exchange, 'topic', { durable: true });
      } catch (error) {
        // 406 PRECONDITION_FAILED closed the channel: the exchange exists with other settings.
        this.options.log('warn', 'gateway source: exchange exists with other settings, using it as is', { exchange, error: oneLine(error) });
        channel = await openChannel(model);
        await channel.checkExchange(exchange);
      }
    }
    for (const [exchange, gatewayChannel] of Object.entries(this.options.exchanges)) await this.consume(model, channel, exchange, gatewayChannel);
    channel.on('close', () => {
      // A channel closed under a live connection (e.g. a broker-side error): reconnect from scratch.
      if (!this.isClosed) void model.close().catch(() => undefined);
    });
  }

  private async consume(model: ChannelModel, channel: Channel, exchange: string, gatewayChannel: string): Promise<void> {
    const prefix = this.options.sharedQueuePrefix;
    // Own queue: exclusive and server-named (every process gets every message). Shared: one name
    // for the workers of one server, with a single active consumer (RabbitMQ ≥ 3.8): one worker
    // gets every message, in publish order, and another takes over if it goes.
    const { queue } = prefix === undefined
      ? await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false })
      : await channel.assertQueue(`${prefix}.${exchange}`, { exclusive: false, autoDelete: true, durable: false, arguments: { 'x-single-active-consumer': true } });
    await channel.bindQueue(queue, exchange, '#');
    await channel.consume(
      queue,
      (message: ConsumeMessage | null) => {
        // null: the broker cancelled the consumer (queue deleted); the close below recovers.
        if (message === null) {
          void model.close().catch(() => undefined);
          return;
        }
        this.options.onMessage(gatewayChannel, message.fields.routingKey, message.content);
      },
      { noAck: true },
    );
  }
}

async function openChannel(model: ChannelModel): Promise<Channel> {
  const channel = await model.createChannel();
  // Channel errors are also reported by the failing call or by 'close'; never let them throw.
  channel.on('error', () => undefined);
  return channel;
}

/** Adds `heartbeat=10` unless the URL sets its own: a silent broker is noticed within ~20 s. */
function withHeartbeat(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', DEFAULT_HEARTBEAT_S);
    return parsed.href;
  } catch {
    // Let amqplib report the bad URL through 'connect-failed'.
    return url;
  }
}

function oneLine(error: unknown): string {
  if (error === undefined) return 'connection closed';
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
