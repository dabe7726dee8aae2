/**
 * The SSE stream registry ("hub") of the reference backend.
 *
 * Built to hold 10,000+ streams in one process without being the bottleneck:
 * - frames are encoded once per broadcast (a Buffer) and the same bytes are written to every
 *   recipient; recipients are looked up by group (`salon:1`, `store:7`, ...), not scanned;
 * - one shared sweep timer drives heartbeats, the inactivity timeout and the time-based faults
 *   for every stream (no per-stream intervals or timeouts);
 * - each stream has a bounded write buffer: a client whose unsent bytes would go over
 *   `maxBufferBytes` is disconnected and counted, so one slow reader never makes the process
 *   buffer without limit or slows the others (issue 3 "Behaviour under load"); the buffer is the
 *   stream's own, not the socket's, so the disconnect costs O(1) (`stream-writer.ts`, issue 14).
 * Every time the hub reads comes from its injected clock (`now`), so tests move time instead of
 * sleeping.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DelayedBroadcasts } from './delayed-broadcasts.js';
import type { FaultSet } from './faults.js';
import { HttpError } from './http.js';
import { HubStream, type CloseReason, type HeartbeatSpec, type OpenStreamOptions, type StreamLimit } from './hub-stream.js';
import type { ServeLogger } from './log.js';
import type { ServeMetrics } from './metrics.js';
import { createLocalStreamLimiter, type StreamLimiter } from './stream-limits.js';
import { StreamWriter, unsentBytes } from './stream-writer.js';

/** Hub settings; all durations in ms. */
export interface HubOptions {
  readonly metrics: ServeMetrics;
  readonly faults: FaultSet;
  readonly log: ServeLogger;
  /** Close a stream after this long without an event (heartbeats do not count); 0 disables. */
  readonly inactivityTimeoutMs: number;
  /** Unsent bytes allowed per stream before it is treated as a slow client. */
  readonly maxBufferBytes: number;
  /** `retry:` sent first on every stream, if set. */
  readonly retryMs?: number | undefined;
  /** The smallest heartbeat interval in use, to size the sweep tick. */
  readonly heartbeatMs: number;
  /** The clock, in ms. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** Time per event-loop turn spent writing to sockets before the rest waits for the next turn. Default 10. */
  readonly writeBudgetMs?: number | undefined;
  /** Builds the per-user limiter around the hub's `evict`; default: this process only. */
  readonly createLimiter?: ((evict: (streamId: number) => void) => StreamLimiter) | undefined;
}

/** Per-broadcast options. */
export interface BroadcastOptions {
  /** Only deliver to streams for which this returns true. */
  readonly filter?: ((stream: HubStream) => boolean) | undefined;
}

/** The stream registry and fan-out. */
export interface Hub {
  /**
   * Writes the SSE headers and registers the stream; rejects with HttpError 409 `stream_limit`
   * when the limit refuses it (the caller's router answers it).
   */
  readonly open: (req: IncomingMessage, res: ServerResponse, options: OpenStreamOptions) => Promise<HubStream>;
  /** Writes one pre-encoded event frame to every stream of `group` (after `--fault delay`, if set). */
  readonly broadcast: (group: string, frame: Buffer, options?: BroadcastOptions) => void;
  /** Every registered stream (with `--fault leak`, closed ones too). */
  readonly streams: () => Iterable<HubStream>;
  /** Registered streams per role (the `sse_connections_active` gauge). */
  readonly countByRole: () => Map<string, number>;
  /** Streams really open (not closed), whatever the leak fault says. */
  readonly liveCount: () => number;
  /** Unsent bytes over every open stream (`sse_buffered_bytes`). */
  readonly bufferedBytes: () => number;
  /** Ends every stream cleanly and stops the sweep timer. */
  readonly close: () => void;
}

const BASE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
  // CONTRACTS §1, §4: stops nginx from buffering the stream.
  'X-Accel-Buffering': 'no',
} as const;

/** Deliveries of one broadcast for one profile, counted into metrics once per broadcast. */
interface DeliveryTally {
  delivered: number;
  droppedFault: number;
  droppedStalled: number;
}

/** Creates the registry and starts its sweep timer (unref'd: it never keeps a process alive). */
export function createHub(options: HubOptions): Hub {
  const hub = new StreamHub(options);
  return {
    open: (req, res, openOptions) => hub.open(req, res, openOptions),
    broadcast: (group, frame, broadcastOptions) => hub.broadcast(group, frame, broadcastOptions?.filter),
    streams: () => hub.registry,
    countByRole: () => hub.countByRole(),
    liveCount: () => hub.liveCount,
    bufferedBytes: () => {
      let bytes = 0;
      for (const stream of hub.liveStreams()) bytes += unsentBytes(stream);
      return bytes;
    },
    close: () => hub.close(),
  };
}

/** The hub's state and its operations; `createHub` exposes the `Hub` interface over it. */
class StreamHub {
  readonly registry = new Set<HubStream>();
  private readonly options: HubOptions;
  private readonly now: () => number;
  private readonly groups = new Map<string, Set<HubStream>>();
  /** The streams not finished yet, by id (in opening order). */
  private readonly byId = new Map<number, HubStream>();
  private readonly limiter: StreamLimiter;
  private readonly writer: StreamWriter;
  private readonly delayed: DelayedBroadcasts | undefined;
  private readonly timer: NodeJS.Timeout;
  private nextId = 1;
  private isClosing = false;

  constructor(options: HubOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    const evict = (streamId: number): void => {
      const stream = this.byId.get(streamId);
      if (stream) this.endCleanly(stream, 'stream-limit', ': stream_limit: replaced by a newer stream\n\n');
    };
    this.limiter = options.createLimiter?.(evict) ?? createLocalStreamLimiter(evict);
    this.writer = new StreamWriter(options.maxBufferBytes, options.writeBudgetMs ?? 10);
    const delayMs = options.faults.delayMs;
    this.delayed = delayMs === undefined ? undefined : new DelayedBroadcasts(delayMs, this.now, (group, frame, filter) => this.broadcastNow(group, frame, filter));
    this.timer = setInterval(() => this.sweep(), sweepTickMs(options));
    this.timer.unref();
  }

  async open(req: IncomingMessage, res: ServerResponse, options: OpenStreamOptions): Promise<HubStream> {
    this.assertOpenable(req, res);
    const id = this.nextId;
    this.nextId += 1;
    const limit = activeLimit(options.limit);
    if (limit !== undefined) {
      await this.limiter.acquire(limit, id);
      try {
        // The limiter may have waited on another process: check again before registering.
        this.assertOpenable(req, res);
      } catch (error) {
        this.limiter.release(limit.key, id);
        throw error;
      }
    }
    const stream = new HubStream(id, res, options, this.now());
    this.register(stream);
    res.on('close', () => this.finish(stream, 'client'));
    res.on('drain', () => this.writer.onDrain(stream));
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true);
    res.writeHead(200, { ...BASE_HEADERS, ...options.headers });
    const initial = typeof options.initial === 'function' ? options.initial() : options.initial;
    let first = this.options.retryMs === undefined ? '' : `retry: ${this.options.retryMs}\n\n`;
    if (initial !== undefined) first += initial.toString();
    // Headers and first frames go out in one packet; an empty stream still gets its headers now.
    if (first === '') res.flushHeaders();
    else if (!res.write(first)) stream.isBackedUp = true;
    this.options.log('info', 'sse connect', stream.describe());
    return stream;
  }

  broadcast(group: string, frame: Buffer, filter: ((stream: HubStream) => boolean) | undefined): void {
    if (this.isClosing) return;
    if (this.delayed === undefined) this.broadcastNow(group, frame, filter);
    else this.delayed.add(group, frame, filter);
  }

  countByRole(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const stream of this.registry) {
      const role = stream.roleLabel();
      counts.set(role, (counts.get(role) ?? 0) + 1);
    }
    return counts;
  }

  /** Streams not finished yet. */
  get liveCount(): number {
    return this.byId.size;
  }

  liveStreams(): IterableIterator<HubStream> {
    return this.byId.values();
  }

  close(): void {
    this.isClosing = true;
    clearInterval(this.timer);
    this.delayed?.clear();
    for (const stream of this.byId.values()) this.endCleanly(stream, 'shutdown');
  }

  /** 503 while shutting down; 499 when the client hung up while its token was verified (its 'close' already fired: registering it now would leak it for ever). */
  private assertOpenable(req: IncomingMessage, res: ServerResponse): void {
    if (this.isClosing) throw new HttpError(503, 'shutting_down', 'server is shutting down');
    if (res.destroyed || req.socket.destroyed) throw new HttpError(499, 'client_closed', 'client closed the request');
  }

  private register(stream: HubStream): void {
    this.registry.add(stream);
    this.byId.set(stream.id, stream);
    for (const group of stream.groups) {
      let members = this.groups.get(group);
      if (!members) {
        members = new Set();
        this.groups.set(group, members);
      }
      members.add(stream);
    }
  }

  private unregister(stream: HubStream): void {
    this.registry.delete(stream);
    for (const group of stream.groups) {
      const members = this.groups.get(group);
      if (!members) continue;
      members.delete(stream);
      if (members.size === 0) this.groups.delete(group);
    }
  }

  private finish(stream: HubStream, reason: CloseReason): void {
    if (stream.isClosed) return;
    stream.isClosed = true;
    this.byId.delete(stream.id);
    // At shutdown every place goes at once (and with --workers the primary is stopping too): no
    // release per stream, which costs an IPC message each with --workers.
    if (stream.limitKey !== undefined && !this.isClosing) this.limiter.release(stream.limitKey, stream.id);
    // The seed 003 bug, on purpose: with the leak fault the registry never forgets a stream.
    if (!this.options.faults.isLeaking) this.unregister(stream);
    const durationMs = this.now() - stream.openedAtMs;
    this.options.metrics.connectionDuration.observe({ role: stream.roleLabel() }, durationMs / 1000);
    this.options.log('info', 'sse disconnect', { ...stream.describe(), reason, duration_ms: durationMs });
  }

  /**
   * Ends a stream with the chunked terminator: the client sees a clean end of stream. A client
   * with a backlog would see the end only after it (a non-reading one never): it is cut at once
   * instead (SIGTERM with thousands of non-reading streams then exits in a moment, issue 14).
   */
  private endCleanly(stream: HubStream, reason: CloseReason, lastBytes?: string): void {
    if (stream.isBackedUp || stream.queued.length > 0) {
      this.destroy(stream, reason);
      return;
    }
    this.finish(stream, reason);
    if (lastBytes !== undefined && !stream.isStalled) stream.res.end(lastBytes);
    else stream.res.end();
  }

  /** Destroys the socket without flushing anything: the client sees a broken stream (no terminator). */
  private destroy(stream: HubStream, reason: CloseReason): void {
    this.finish(stream, reason);
    this.writer.destroy(stream);
  }

  /**
   * Writes (or queues) one frame; returns false if the stream was dropped as a slow client.
   * `isSkippable`: a heartbeat, not worth queueing behind a backlog.
   */
  private write(stream: HubStream, frame: Buffer, isSkippable = false): boolean {
    if (this.writer.write(stream, frame, isSkippable) !== 'over-limit') return true;
    this.options.metrics.slowClientDisconnects.inc({ profile: stream.profile });
    this.options.metrics.eventsDropped.inc({ reason: 'slow_client' });
    this.options.log('warn', 'slow client disconnected', { ...stream.describe(), buffered_bytes: unsentBytes(stream) });
    this.destroy(stream, 'slow-client');
    return false;
  }

  /** One event delivery with the drop/stall faults applied; updates `tally`, not metrics. */
  private deliver(stream: HubStream, frame: Buffer, nowMs: number, tally: DeliveryTally): void {
    if (stream.isStalled) {
      tally.droppedStalled += 1;
      return;
    }
    const dropFraction = this.options.faults.dropFraction;
    if (dropFraction !== undefined) {
      stream.dropCarry += dropFraction;
      if (stream.dropCarry >= 1 - 1e-9) {
        stream.dropCarry -= 1;
        tally.droppedFault += 1;
        return;
      }
    }
    if (!this.write(stream, frame)) return;
    tally.delivered += 1;
    stream.lastEventAtMs = nowMs;
    if (stream.heartbeat?.isIdleBased) stream.nextHeartbeatAtMs = nowMs + stream.heartbeat.intervalMs;
  }

  private broadcastNow(group: string, frame: Buffer, filter: ((stream: HubStream) => boolean) | undefined): void {
    const members = this.groups.get(group);
    if (!members || members.size === 0) return;
    const nowMs = this.now();
    const tallies = new Map<string, DeliveryTally>();
    for (const stream of members) {
      if (stream.isClosed || (filter !== undefined && !filter(stream))) continue;
      let tally = tallies.get(stream.profile);
      if (!tally) {
        tally = { delivered: 0, droppedFault: 0, droppedStalled: 0 };
        tallies.set(stream.profile, tally);
      }
      this.deliver(stream, frame, nowMs, tally);
    }
    // One labelled inc per broadcast, not per client: label hashing is the costly part.
    const metrics = this.options.metrics;
    for (const [profile, tally] of tallies) {
      if (tally.delivered > 0) metrics.eventsDelivered.inc({ profile }, tally.delivered);
      if (tally.droppedFault > 0) metrics.eventsDropped.inc({ reason: 'fault' }, tally.droppedFault);
      if (tally.droppedStalled > 0) metrics.eventsDropped.inc({ reason: 'stalled' }, tally.droppedStalled);
    }
  }

  private sweep(): void {
    const nowMs = this.now();
    // Delayed events first: a heartbeat written in this sweep then proves the event was not due.
    this.delayed?.releaseDue();
    const heartbeatFrames = new Map<HeartbeatSpec, Buffer>();
    for (const stream of this.byId.values()) {
      if (this.sweepFaults(stream, nowMs) || stream.isStalled) continue;
      if (this.options.inactivityTimeoutMs > 0 && nowMs - stream.lastEventAtMs >= this.options.inactivityTimeoutMs) {
        this.endCleanly(stream, 'inactivity');
        continue;
      }
      const heartbeat = stream.heartbeat;
      if (heartbeat === undefined || nowMs < stream.nextHeartbeatAtMs) continue;
      let frame = heartbeatFrames.get(heartbeat);
      if (!frame) {
        frame = heartbeat.frame(nowMs);
        heartbeatFrames.set(heartbeat, frame);
      }
      if (this.write(stream, frame, true)) stream.nextHeartbeatAtMs = nowMs + heartbeat.intervalMs;
    }
  }

  /** The time-based faults; true when the stream was closed by one. */
  private sweepFaults(stream: HubStream, nowMs: number): boolean {
    const faults = this.options.faults;
    const ageMs = nowMs - stream.openedAtMs;
    if (faults.closeEveryMs !== undefined && ageMs >= faults.closeEveryMs) {
      this.destroy(stream, 'fault-close-every');
      return true;
    }
    if (faults.stallAfterMs !== undefined && !stream.isStalled && ageMs >= faults.stallAfterMs) {
      stream.isStalled = true;
      this.options.log('info', 'stream stalled (fault)', stream.describe());
    }
    return false;
  }
}

/** The limit to apply, or undefined when there is none (max 0 = unlimited). */
function activeLimit(limit: StreamLimit | undefined): StreamLimit | undefined {
  return limit !== undefined && limit.max > 0 ? limit : undefined;
}

/**
 * A quarter of the shortest period keeps heartbeats within 25% of their interval; 1 s is plenty
 * for the seeds' 30 s / 1 h, and a sweep over 10,000 streams costs well under 1 ms.
 */
function sweepTickMs(options: HubOptions): number {
  const faults = options.faults;
  const periods = [options.heartbeatMs, options.inactivityTimeoutMs, faults.stallAfterMs, faults.closeEveryMs].filter((ms): ms is number => ms !== undefined && ms > 0);
  return Math.min(1000, Math.max(5, Math.floor(Math.min(...periods, 4000) / 4)));
}
