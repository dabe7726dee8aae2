/**
 * Prometheus metrics for `GET /metrics` (CONTRACTS §1 "Metrics", §3 "Monitoring wish list").
 * Uses its own prom-client Registry, never the global one, so several servers can run in one
 * process (tests, `ssekit bench`'s embedded backend) without sharing counters.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The metric handles the hub and the profiles update. */
export interface ServeMetrics {
  readonly registry: Registry;
  /** Events emitted by a producer, once per event whatever the number of clients (§1). */
  readonly eventsEmitted: Counter<'event_type'>;
  /** Event frames written to a client (heartbeats and comments excluded). */
  readonly eventsDelivered: Counter<'profile'>;
  /** Deliveries that did not happen: `reason` is `fault`, `stalled` or `slow_client`. */
  readonly eventsDropped: Counter<'reason'>;
  /** Clients disconnected because their write buffer went over `--max-buffer`. */
  readonly slowClientDisconnects: Counter<'profile'>;
  /** Requests answered 503 because `--max-connections` was reached. */
  readonly connectionsRefused: Counter;
  /** Stream lifetimes, observed at disconnect (§1). */
  readonly connectionDuration: Histogram<'role'>;
  /** Prometheus text exposition. */
  readonly render: () => Promise<{ contentType: string; body: string }>;
  /** Stops the event-loop delay sampler (shutdown). */
  readonly stop: () => void;
}

/** What the gauges read from the hub at scrape time. */
export interface MetricsSource {
  /** Registered streams per role. */
  readonly countByRole: () => ReadonlyMap<string, number>;
  /** Bytes written to streams and not yet taken by their sockets, over every open stream. */
  readonly bufferedBytes: () => number;
}

/**
 * The source is read at scrape time, so the gauge is exactly what the connection registry holds:
 * with `--fault leak` the dead streams it still holds show up there (§4's bug).
 */
export function createServeMetrics(source: MetricsSource): ServeMetrics {
  const registry = new Registry();
  const knownRoles = new Set<string>();
  new Gauge({
    name: 'sse_connections_active',
    help: 'SSE streams held in the connection registry, by token role',
    labelNames: ['role'],
    registers: [registry],
    collect() {
      const counts = source.countByRole();
      // A role seen once keeps reporting 0 rather than disappearing, so rate()/alerts stay sane.
      for (const role of counts.keys()) knownRoles.add(role);
      for (const role of knownRoles) this.set({ role }, counts.get(role) ?? 0);
    },
  });
  new Gauge({
    name: 'sse_buffered_bytes',
    help: 'Bytes waiting for clients that are behind (the per-stream bound is --max-buffer)',
    registers: [registry],
    collect() {
      this.set(source.bufferedBytes());
    },
  });
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory of this serve process (with --workers: of each worker)',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  // How responsive this process is, seen from inside: the longest event-loop delay since the last
  // scrape (issue 14: a slow client must never stall the loop). 10 ms resolution; unref'd timer.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  new Gauge({
    name: 'nodejs_eventloop_delay_max_seconds',
    help: 'Longest event-loop delay since the previous scrape of /metrics',
    registers: [registry],
    collect() {
      this.set(loopDelay.max / 1e9);
      loopDelay.reset();
    },
  });
  const eventsEmitted = new Counter({ name: 'admin_events_emitted_total', help: 'Events emitted by producers, by event type', labelNames: ['event_type'], registers: [registry] });
  const eventsDelivered = new Counter({ name: 'sse_events_delivered_total', help: 'Event frames written to SSE clients', labelNames: ['profile'], registers: [registry] });
  const eventsDropped = new Counter({ name: 'sse_events_dropped_total', help: 'Event deliveries skipped (fault, stalled stream, slow client)', labelNames: ['reason'], registers: [registry] });
  const slowClientDisconnects = new Counter({ name: 'sse_slow_client_disconnects_total', help: 'Streams closed because the client could not keep up', labelNames: ['profile'], registers: [registry] });
  const connectionsRefused = new Counter({ name: 'sse_connections_refused_total', help: 'Requests answered 503 server_full because --max-connections was reached', registers: [registry] });
  const connectionDuration = new Histogram({
    name: 'sse_connection_duration_seconds',
    help: 'How long SSE streams stayed open',
    labelNames: ['role'],
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 7200],
    registers: [registry],
  });
  return {
    registry,
    eventsEmitted,
    eventsDelivered,
    eventsDropped,
    slowClientDisconnects,
    connectionsRefused,
    connectionDuration,
    render: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
    stop: () => loopDelay.disable(),
  };
}
