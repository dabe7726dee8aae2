/**
 * Profile `gateway`: CONTRACTS §5 (seed 004), the gateway's SSE channels.
 *
 * Streams: `GET /api/v1/streams/{deals|tasks|notifications|payments}` (`Accept:
 * text/event-stream` is what clients send; it is not required). Checks, in this order:
 * - unknown channel → 404 `{"code":"not_found"}` (before auth, like any unknown path);
 * - `?version=` absent or `1` → version 1, `2` → version 2, anything else → 400
 *   `{"code":"unsupported_version"}`; the version is echoed in the `X-Stream-Version` header;
 * - Bearer (or `?token=`) JWT: missing/invalid/expired → 401. Any role (or none) may connect:
 *   access is the `channels` claim (an array of channel names; absent = every channel);
 * - a valid token whose `channels` does not list this channel (a `channels` claim that is not an
 *   array allows nothing) → HTTP 200, then `event: error` + `data: {"code":"forbidden"}` and
 *   the stream is closed, as the seed says. Such a stream does not count against the limit;
 * - at most 5 streams per user over all channels (`--max-streams-per-user`); over it, the default
 *   policy `reject` answers 409 `{"code":"stream_limit"}`; `--stream-limit-policy close-oldest`
 *   ends the user's oldest stream instead (the seed's other sentence).
 *
 * Frames (every event has `id:` and `event:`; data is one JSON line):
 * - version 1: `id: 7` / `event: deal.created` / `data: {"event":"deal.created","data":{...}}`:
 *   the seed's "payload is JSON, `event` = type, `data` = the object";
 * - version 2: the same plus metadata: `data: {"event":"deal.created","data":{...},"version":2,
 *   "channel":"deals","id":7,"emitted_at":"<ISO time the gateway relayed it>"}`;
 * - `event: heartbeat` / `data:` (an empty data line: a dispatched event with empty data; an
 *   event without any data line would not be dispatched by EventSource), every heartbeat
 *   interval (`--heartbeat`, 30 s) whatever the traffic, from the hub's shared sweep; no `id:`;
 * - `event: warning` / `data: {"code":"source_unavailable","channel":"deals"}`: with `--amqp`,
 *   while RabbitMQ is unreachable: at the moment of loss (or of a failed first connect), on
 *   every stream opened meanwhile, and then every source-warning interval (60 s; the
 *   `sourceWarningMs` setting, else 2 × the heartbeat interval: 60 s by default) until the
 *   consumer is back; no `id:`;
 * - `event: warning` / `data: {"code":"replay_truncated","channel":"deals","last_event_id":"3",
 *   "oldest_id":997}` (`oldest_id` null when nothing is buffered): see replay below.
 *
 * Ids and replay: ids are integers, consecutive per channel (1, 2, 3, ...) and per process.
 * Each channel keeps its last N events (`replayBufferSize` setting, default 1000). On a
 * (re)connect with `Last-Event-ID: L`, the events after L are written before any live event
 * (replay and registration happen in the same tick, so nothing falls in between). If L is
 * older than the buffer, or is not an id this process issued (greater than its last id, not an
 * integer: a restarted or another process), the stream first gets `replay_truncated` and then
 * everything still buffered. With several processes, resuming needs the same process (sticky
 * sessions): each numbers its own events.
 *
 * Producers: (1) `POST /api/v1/streams/{channel}/events` with `{"event":"<type>","data":{...}}`
 * (any valid token allowed on that channel, else 401/403): the type must belong to the channel
 * (400 `unknown_event` otherwise) and data must be an object (400 `invalid_field`); it goes
 * through the event bus (channel `ssekit:gateway:<channel>`, so `--redis` fans it out) and
 * answers 202 `{"channel","event","data"}`. (2) With `--amqp <url>`, RabbitMQ (see
 * `gateway-source.ts`): exchange `crm.domain` → deals, `tasks.events` → tasks,
 * `notifications.internal` → notifications, `payments.status` → payments; the routing key is the
 * event type and the body the payload object, or the body is `{"event": type, "data": {...}}`
 * and those win. A message that is not a JSON object, or whose type does not belong to the
 * exchange's channel, is logged and dropped. The payload is relayed unchanged (re-serialised
 * as one JSON line). AMQP messages are relayed by each process directly, not via the bus.
 *
 * Metrics: streams in `sse_connections_active{role}` (the hub), each relayed event once in
 * `admin_events_emitted_total{event_type}`, deliveries in `sse_events_delivered_total{profile}`.
 */
import { UsageError } from '../../core/errors.js';
import type { BusDelivery } from '../bus.js';
import { encodeFrame } from '../encode.js';
import { field, HttpError, sendJson, viaBroker } from '../http.js';
import type { Principal } from '../auth.js';
import type { Hub } from '../hub.js';
import type { HeartbeatSpec } from '../hub-stream.js';
import type { Profile, ProfileContext, ProfileFactory, RouteRequest } from '../profile.js';
import { userStreamLimit } from '../profile.js';
import { createAmqpSource, type AmqpSource, type SourceState } from './gateway-source.js';
import { createReplayBuffer, planReplay, type BufferedEvent, type ReplayBuffer } from './gateway-replay.js';

/** CONTRACTS §5: each channel and its event types (seed 004's tables). */
export const GATEWAY_CHANNELS = {
  deals: ['deal.created', 'deal.updated', 'deal.journal.appended', 'policy.status.changed', 'calculation.added'],
  tasks: ['task.created', 'task.updated', 'task.reminder'],
  notifications: ['notification.sent', 'notification.read'],
  payments: ['payment.status.changed', 'payment.overdue'],
} as const satisfies Readonly<Record<string, readonly string[]>>;

/** A gateway channel name. */
export type GatewayChannel = keyof typeof GATEWAY_CHANNELS;

/** Seed 004: the RabbitMQ exchange each channel is fed from. */
export const GATEWAY_EXCHANGES: Readonly<Record<string, GatewayChannel>> = {
  'crm.domain': 'deals',
  'tasks.events': 'tasks',
  'notifications.internal': 'notifications',
  'payments.status': 'payments',
};

/** Schema versions `?version=` accepts. */
export const GATEWAY_VERSIONS = [1, 2] as const;

/** Default events kept per channel for `Last-Event-ID` replay. */
export const DEFAULT_REPLAY_BUFFER_SIZE = 1000;

/** Bus channel of a gateway channel (issue 3: one per profile/channel). */
export const gatewayBusChannel = (channel: GatewayChannel): string => `ssekit:gateway:${channel}`;

const CHANNEL_NAMES = Object.keys(GATEWAY_CHANNELS) as GatewayChannel[];
const DEFAULT_LIMIT = 5;
const HEARTBEAT = Buffer.from(encodeFrame({ event: 'heartbeat', data: '' }));
const FORBIDDEN = encodeFrame({ event: 'error', data: JSON.stringify({ code: 'forbidden' }) });
const SOURCE_WARNINGS = new Map(CHANNEL_NAMES.map((channel) => [channel, Buffer.from(encodeFrame({ event: 'warning', data: JSON.stringify({ code: 'source_unavailable', channel }) }))]));

/** Reads `event`/`data` from a bus or AMQP body: `{"event","data"}` wins over the routing key. */
export function decodeGatewayMessage(body: string, routingKey?: string): { readonly event: string; readonly data: Record<string, unknown> } | { readonly error: string } {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { error: 'body is not JSON' };
  }
  if (!isObject(value)) return { error: 'body is not a JSON object' };
  const inner = value['data'];
  if (typeof value['event'] === 'string' && isObject(inner)) return { event: value['event'], data: inner };
  if (routingKey === undefined || routingKey === '') return { error: 'no event type (routing key or "event" field)' };
  return { event: routingKey, data: value };
}

/** Mounts CONTRACTS §5. */
export const createGatewayProfile: ProfileFactory = (context) => {
  const amqpUrl = context.settings.amqpUrl;
  if (amqpUrl !== undefined && !/^amqps?:\/\//i.test(amqpUrl)) {
    throw new UsageError('--amqp: expected an amqp:// or amqps:// URL', { hint: 'e.g. --amqp amqp://guest:guest@127.0.0.1:5672' });
  }
  return new GatewayProfile(context, amqpUrl).profile();
};

/** Every stream of the channel (both versions) is in this group; warnings go there. */
const channelGroup = (channel: GatewayChannel): string => `gateway:${channel}`;
const versionGroup = (channel: GatewayChannel, version: number): string => `gateway:${channel}:v${version}`;

/**
 * `source_unavailable` while RabbitMQ is down: to every stream at the moment of loss, then every
 * `intervalMs` until the source is back (CONTRACTS §5 "every 60 s while the source is down").
 */
class SourceWarnings {
  state: SourceState | 'none';
  private readonly hub: Hub;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(hub: Hub, intervalMs: number, hasSource: boolean) {
    this.hub = hub;
    this.intervalMs = intervalMs;
    this.state = hasSource ? 'connecting' : 'none';
  }

  onStateChange(state: SourceState): void {
    this.state = state;
    if (state === 'down') {
      this.warnAll();
      if (this.timer === undefined) {
        this.timer = setInterval(() => this.warnAll(), this.intervalMs);
        this.timer.unref();
      }
    } else {
      this.stop();
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private warnAll(): void {
    for (const channel of CHANNEL_NAMES) this.hub.broadcast(channelGroup(channel), SOURCE_WARNINGS.get(channel) as Buffer);
  }
}

/** The profile's routes, bus and AMQP handlers over one replay ring per channel. */
class GatewayProfile {
  private readonly context: ProfileContext;
  private readonly amqpUrl: string | undefined;
  private readonly heartbeat: HeartbeatSpec;
  private readonly buffers: ReadonlyMap<GatewayChannel, ReplayBuffer>;
  private readonly warnings: SourceWarnings;
  private source: AmqpSource | undefined;

  constructor(context: ProfileContext, amqpUrl: string | undefined) {
    const settings = context.settings;
    this.context = context;
    this.amqpUrl = amqpUrl;
    this.heartbeat = { intervalMs: settings.heartbeatMs, isIdleBased: false, frame: () => HEARTBEAT };
    const bufferSize = settings.replayBufferSize ?? DEFAULT_REPLAY_BUFFER_SIZE;
    this.buffers = new Map(CHANNEL_NAMES.map((channel) => [channel, createReplayBuffer(bufferSize)]));
    this.warnings = new SourceWarnings(context.hub, settings.sourceWarningMs ?? settings.heartbeatMs * 2, amqpUrl !== undefined);
  }

  profile(): Profile {
    return {
      name: 'gateway',
      contract: '§5',
      routes: [
        {
          method: 'GET',
          path: '/api/v1/streams/{channel}',
          summary: `stream (${CHANNEL_NAMES.join('|')}): id'd domain events, Last-Event-ID replay, ?version=1|2, heartbeat (any role; "channels" claim)`,
          isStream: true,
          handle: (request) => this.openChannelStream(request),
        },
        {
          method: 'POST',
          path: '/api/v1/streams/{channel}/events',
          summary: 'produce {event, data} on a channel (the type must belong to it) → 202 (any role allowed on the channel)',
          handle: (request) => this.produce(request),
        },
      ],
      start: () => this.start(),
      close: async () => {
        this.warnings.stop();
        await this.source?.close();
      },
    };
  }

  private async openChannelStream(request: RouteRequest): Promise<void> {
    const channel = channelOf(request.params['channel']);
    const version = versionOf(request.url);
    const principal = await request.authenticate('any');
    const headers = { 'X-Stream-Version': String(version) };
    if (!mayUse(principal, channel)) {
      // The seed: the stream opens, says why, and closes. Not registered for broadcasts.
      await this.context.openStream(request, principal, { headers, groups: [], scope: { channel, version }, initial: FORBIDDEN });
      request.res.end();
      return;
    }
    const lastEventId = headerValue(request.req.headers['last-event-id']);
    await this.context.openStream(request, principal, {
      headers,
      groups: [channelGroup(channel), versionGroup(channel, version)],
      scope: { channel, version },
      heartbeat: this.heartbeat,
      limit: userStreamLimit(this.context.settings, `gateway:${principal.userId}`, { max: DEFAULT_LIMIT, policy: 'reject' }),
      // Planned when the stream is admitted, in the tick it is registered: an event relayed
      // meanwhile is either replayed or live, never lost or doubled.
      initial: () => this.firstFrames(channel, version, lastEventId),
    });
  }

  private async produce(request: RouteRequest): Promise<void> {
    const channel = channelOf(request.params['channel']);
    const principal = await request.authenticate('any');
    if (!mayUse(principal, channel)) throw new HttpError(403, 'forbidden', `this token may not use channel '${channel}'`);
    const body = await request.readJson();
    const event = field.string(body, 'event') as string;
    const types: readonly string[] = GATEWAY_CHANNELS[channel];
    if (!types.includes(event)) throw new HttpError(400, 'unknown_event', `'${event}' is not an event of channel '${channel}' (${types.join(', ')})`);
    const data = body['data'];
    if (!isObject(data)) throw new HttpError(400, 'invalid_field', "'data' must be a JSON object");
    await viaBroker(() => this.context.bus.publish(gatewayBusChannel(channel), JSON.stringify({ event, data })));
    sendJson(request.res, 202, { channel, event, data });
  }

  /** What a (re)connecting stream gets before live events: warnings, then the replay. */
  private firstFrames(channel: GatewayChannel, version: 1 | 2, lastEventId: string | undefined): Buffer | undefined {
    const plan = planReplay(lastEventId, this.bufferOf(channel));
    const frames: Buffer[] = [];
    if (this.warnings.state === 'down') frames.push(SOURCE_WARNINGS.get(channel) as Buffer);
    if (plan.truncated !== undefined) {
      const warning = { code: 'replay_truncated', channel, last_event_id: plan.truncated.lastEventId, oldest_id: plan.truncated.oldestId };
      frames.push(Buffer.from(encodeFrame({ event: 'warning', data: JSON.stringify(warning) })));
    }
    for (const entry of plan.events) frames.push(entry.frames[version - 1] as Buffer);
    return frames.length === 0 ? undefined : Buffer.concat(frames);
  }

  private async start(): Promise<void> {
    const { bus, log } = this.context;
    for (const channel of CHANNEL_NAMES) {
      await bus.subscribe(gatewayBusChannel(channel), (raw, delivery) => {
        const message = decodeGatewayMessage(raw);
        if ('error' in message) log('warn', 'gateway: ignored a bus message', { channel, error: message.error });
        else this.relay(channel, message.event, message.data, 'bus', delivery);
      });
    }
    if (this.amqpUrl === undefined) return;
    this.source = createAmqpSource({
      url: this.amqpUrl,
      exchanges: GATEWAY_EXCHANGES,
      log,
      // --workers: one queue per exchange shared by the workers, so each message is consumed once
      // and numbered by the primary's bus like a POSTed one (ids agree across workers).
      ...(bus.kind === 'primary' && this.context.settings.amqpQueuePrefix !== undefined ? { sharedQueuePrefix: this.context.settings.amqpQueuePrefix } : {}),
      onStateChange: (state) => this.warnings.onStateChange(state),
      onMessage: (channel, routingKey, body) => this.onAmqpMessage(channel as GatewayChannel, routingKey, body),
    });
    // Waits for the first attempt: "listening" then means the queues are bound, or the warnings run.
    await this.source.start();
  }

  private onAmqpMessage(channel: GatewayChannel, routingKey: string, body: Buffer): void {
    const { bus, log } = this.context;
    const message = decodeGatewayMessage(body.toString('utf8'), routingKey);
    if ('error' in message) {
      log('warn', 'gateway: ignored an AMQP message', { channel, routing_key: routingKey, error: message.error });
      return;
    }
    if (bus.kind !== 'primary') {
      this.relay(channel, message.event, message.data, 'amqp', undefined);
      return;
    }
    bus.publish(gatewayBusChannel(channel), JSON.stringify({ event: message.event, data: message.data })).catch((error: unknown) => {
      log('warn', 'gateway: could not pass an AMQP message to the other workers', { channel, error: error instanceof Error ? error.message : String(error) });
    });
  }

  /**
   * Numbers an event (the bus's `seq` when it has one, else this process's next id), keeps it for
   * replay and sends it. A replacement worker's catch-up (`isReplay`) is only kept.
   */
  private relay(channel: GatewayChannel, event: string, data: Record<string, unknown>, from: string, delivery: BusDelivery | undefined): void {
    const { hub, log, metrics } = this.context;
    if (!(GATEWAY_CHANNELS[channel] as readonly string[]).includes(event)) {
      log('warn', 'gateway: dropped an event of a type this channel does not carry', { channel, event, from });
      return;
    }
    const entry = this.bufferOf(channel).append((id) => encodeGatewayEvent(channel, id, event, data), delivery?.seq);
    if (entry === undefined || delivery?.isReplay === true) return;
    if (delivery?.countsHere !== false) metrics.eventsEmitted.inc({ event_type: event });
    hub.broadcast(versionGroup(channel, 1), entry.frames[0]);
    hub.broadcast(versionGroup(channel, 2), entry.frames[1]);
  }

  private bufferOf(channel: GatewayChannel): ReplayBuffer {
    return this.buffers.get(channel) as ReplayBuffer;
  }
}

/** One event's frames, encoded once per schema version. */
function encodeGatewayEvent(channel: GatewayChannel, id: number, event: string, data: Record<string, unknown>): BufferedEvent {
  const payload = JSON.stringify({ event, data });
  const v2 = JSON.stringify({ event, data, version: 2, channel, id, emitted_at: new Date().toISOString() });
  return { id, event, frames: [Buffer.from(encodeFrame({ id, event, data: payload })), Buffer.from(encodeFrame({ id, event, data: v2 }))] };
}

function channelOf(name: string | undefined): GatewayChannel {
  if (name !== undefined && Object.hasOwn(GATEWAY_CHANNELS, name)) return name as GatewayChannel;
  throw new HttpError(404, 'not_found', `unknown channel '${name ?? ''}' (channels: ${CHANNEL_NAMES.join(', ')})`);
}

/** `?version=`: absent → 1; 1 or 2; anything else → 400. */
function versionOf(url: URL): 1 | 2 {
  const raw = url.searchParams.get('version');
  if (raw === null || raw === '' || raw === '1') return 1;
  if (raw === '2') return 2;
  throw new HttpError(400, 'unsupported_version', `unsupported version '${raw}' (supported: ${GATEWAY_VERSIONS.join(', ')})`);
}

/** The `channels` claim: absent = every channel; an array lists them; anything else allows none. */
function mayUse(principal: Principal, channel: GatewayChannel): boolean {
  const claim: unknown = principal.claims.channels;
  if (claim === undefined || claim === null) return true;
  return Array.isArray(claim) && claim.includes(channel);
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
