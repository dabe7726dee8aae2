/**
 * The bench fleet: owns the virtual clients of this process and everything done to them as a
 * group — start them on the ramp's schedule, wait for them to open, churn some of them each
 * tick, reconnect the stalled ones, and stop them all. It measures nothing itself: clients
 * count into the shared `FleetCounters` and tell the delivery tracker when they open and close.
 */
import type { Client } from 'undici';
import { sleep, waitUntil } from '../core/sleep.js';
import { BenchClient, type FleetContext } from './client.js';
import { credentialsFor, type AuthPlan, type Credentials } from '../transport/identity.js';
import type { Population } from './population.js';
import type { ChurnMode } from './churn-modes.js';
import { createPacer } from './pacer.js';

/** Options for `createFleet`. */
export interface FleetOptions {
  readonly population: Population;
  readonly context: FleetContext;
  /** Shared HTTP/2 connections (`--connections`), closed with the fleet. */
  readonly connections?: readonly Client[] | undefined;
  readonly auth: AuthPlan | undefined;
  /** Headers of every stream request (SSE defaults and `-H`), before credentials. */
  readonly headers: Readonly<Record<string, string>>;
  /** Fraction of the clients churned per second, and how. */
  readonly churnRate: number;
  readonly churnMode: ChurnMode;
  /** No byte for this long: the stream is stalled (0 = no watchdog). */
  readonly heartbeatTimeoutMs: number;
  /** Clients open now (the delivery tracker keeps the count). */
  readonly openCount: () => number;
  /** A problem worth one line to the user (deduplicated by the engine). */
  readonly onNotice: (text: string) => void;
}

/** The fleet of one process. */
export interface Fleet {
  /** Starts clients evenly over `rampUpMs`; returns early when `signal` aborts. */
  rampUp(rampUpMs: number, signal: AbortSignal): Promise<void>;
  /** Waits until every client is open or refused for good, at most `timeoutMs`. */
  waitForOpen(timeoutMs: number, signal: AbortSignal): Promise<void>;
  /** One steady-state tick: the churn due since the previous tick, then the stall watchdog's pass. */
  tick(now: number): void;
  /** Stops every client and side stream, closing their sockets. */
  stop(): Promise<void>;
}

const RAMP_TICK_MS = 10;

/** Creates the fleet; no client starts before `rampUp`. */
export function createFleet(options: FleetOptions): Fleet {
  const { population } = options;
  const context: FleetContext = options.connections === undefined ? options.context : { ...options.context, connections: options.connections };
  const n = population.size;
  const clients = new Array<BenchClient | undefined>(n);
  const churn = createChurner(options, clients);

  const startClient = async (local: number): Promise<void> => {
    const credentials = await credentialsFor(options.auth, population.globalIndexOf(local));
    const path = population.pathOf(local);
    const client = new BenchClient(local, context, path + credentials.querySuffix(path), requestHeaders(options, local, credentials), population.requestOf(local));
    clients[local] = client;
    client.start();
  };

  return {
    async rampUp(rampUpMs, signal) {
      // Clients start on the ramp's clock, in batches of those due: a busy event loop (a server
      // kicking every stream, thousands reconnecting) makes batches bigger, never the ramp longer.
      const rampStart = performance.now();
      let next = 0;
      while (next < n && !signal.aborted) {
        const elapsedMs = performance.now() - rampStart;
        const due = rampUpMs <= 0 || n <= 1 ? n : Math.min(n, Math.floor((elapsedMs / rampUpMs) * (n - 1)) + 1);
        const batch: Promise<void>[] = [];
        for (; next < due; next++) batch.push(startClient(next));
        await Promise.all(batch);
        if (next < n) await sleep(Math.min(RAMP_TICK_MS, Math.max(1, rampStart + (rampUpMs * next) / (n - 1) - performance.now())), signal);
      }
    },
    async waitForOpen(timeoutMs, signal) {
      // Clients refused for good never open, so they count as settled; so do clients that opened
      // once and were closed by the server again (waiting would not make them stay).
      const { counters } = context;
      await waitUntil(() => options.openCount() + counters.refusedClients >= n || counters.clientsEverOpened + counters.refusedClients >= n, { timeoutMs, signal });
    },
    tick(now) {
      churn.tick(now);
      if (options.heartbeatTimeoutMs > 0) stallPass(clients, now, options.heartbeatTimeoutMs);
    },
    async stop() {
      await Promise.all([...clients.map((c) => c?.stop()), churn.stop()]);
      await Promise.all((options.connections ?? []).map((c) => c.destroy().catch(() => undefined)));
    },
  };
}

/** A client's stream request headers: the fleet's, its credentials', and its body's Content-Type. */
function requestHeaders(options: FleetOptions, local: number, credentials: Credentials): Record<string, string> {
  const contentType = options.population.requestOf(local)?.contentType;
  return { ...options.headers, ...credentials.headers, ...(contentType === undefined ? {} : { 'content-type': contentType }) };
}

/** The stall watchdog: one pass over the fleet per tick, not a timer per stream. */
function stallPass(clients: readonly (BenchClient | undefined)[], now: number, timeoutMs: number): void {
  for (const client of clients) {
    if (client !== undefined && client.isOpen && now - client.lastByteAt > timeoutMs) client.stall();
  }
}

/** Churn: a fraction of the clients per second leave and come back, spread over the ticks. */
function createChurner(options: FleetOptions, clients: (BenchClient | undefined)[]): { tick(now: number): void; stop(): Promise<void> } {
  const { population, context } = options;
  const n = population.size;
  const rotations = new Uint16Array(n);
  const sideStreams = new Set<BenchClient>();
  const pacer = createPacer(options.churnRate * n);

  const rotateToken = (local: number, client: BenchClient, backMs: number): void => {
    const rotation = (rotations[local] = ((rotations[local] ?? 0) + 1) & 0xffff);
    credentialsFor(options.auth, population.globalIndexOf(local), rotation).then(
      (credentials) => {
        const path = population.pathOf(local);
        client.path = path + credentials.querySuffix(path);
        client.churn('token-rotation', backMs, requestHeaders(options, local, credentials));
      },
      (error: unknown) => {
        context.counters.countError('token');
        options.onNotice(`cannot mint a rotated token: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  };

  // Seed 001's double mount: the same user opens a second stream while the first is open; it
  // lives a little while and is closed again.
  const openSideStream = (client: BenchClient): void => {
    const side = new BenchClient(-1, context, client.path, client.headers, client.request);
    sideStreams.add(side);
    side.start();
    context.counters.countReconnect('duplicate-open');
    const holdMs = 500 + Math.floor(Math.random() * 1500);
    setTimeout(() => {
      sideStreams.delete(side);
      void side.stop();
    }, holdMs).unref();
  };

  const churnOne = (): void => {
    // Pick a random open client; a few tries are enough at any realistic open ratio.
    for (let tries = 0; tries < 8; tries++) {
      const local = Math.floor(Math.random() * n);
      const client = clients[local];
      if (client === undefined || !client.isOpen) continue;
      const backMs = 50 + Math.floor(Math.random() * 200);
      if (options.churnMode === 'graceful' || options.churnMode === 'abrupt') client.churn(options.churnMode, backMs);
      else if (options.churnMode === 'token-rotation') rotateToken(local, client, backMs);
      else openSideStream(client);
      return;
    }
  };

  return {
    tick(now) {
      if (options.churnRate <= 0 || n === 0) return;
      for (let due = pacer.due(now); due > 0; due--) churnOne();
    },
    async stop() {
      await Promise.all([...sideStreams].map((c) => c.stop()));
    },
  };
}
