/**
 * Capacity of `serve --workers` (issue 14 point 3): can 3 workers on this machine hold 50,000
 * streams and deliver every order to all of them? Not part of `npm test`; loopback only, bounded
 * (every phase has a deadline) and self-stopping.
 *
 *   npm run build && npx tsc -p tsconfig.perf.json && node build/perf/test/perf/serve-workers-capacity.js
 *
 * The streams come from several client processes (each with its own 20,000-file limit), each on
 * its own loopback source address (127.0.0.2, 127.0.0.3, ...): one source address has only
 * ~28,000 ephemeral ports towards one destination. Every stream is its own admin (`sub`), so the
 * one-stream-per-admin limit is checked by the primary 50,000 times on the way. Clients are raw
 * sockets that count order markers, nothing more, so the server is what is measured.
 *
 * Environment: CAP_STREAMS (50000), CAP_WORKERS (3), CAP_CLIENTS (5), CAP_ORDERS (10); CAP_LOGS=1
 * keeps serve's JSON logs (on stderr), CAP_DEBUG=1 prints each client's progress.
 *
 * Prints one JSON document: streams held (by worker, as the server counts them), RSS per worker
 * before and after the orders, deliveries against expected, the slowest arrival of each order
 * after its POST, and how long the primary took to exit on SIGTERM.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { mintJwt } from '../../src/transport/auth.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const BIN = `${ROOT}bin/ssekit.js`;
const SELF = fileURLToPath(import.meta.url);
const STREAMS = Number(process.env['CAP_STREAMS'] ?? 50_000);
const WORKERS = Number(process.env['CAP_WORKERS'] ?? 3);
const CLIENTS = Number(process.env['CAP_CLIENTS'] ?? 5);
const ORDERS = Number(process.env['CAP_ORDERS'] ?? 10);
const MARKER = 'cap-order-';

/** What a client process reports (IPC), about every second and at the end. */
interface ClientReport {
  readonly client: number;
  readonly opened: number;
  readonly refused: number;
  readonly errors: number;
  /** Failed attempts by cause (each retried, up to 5 times, after a back-off). */
  readonly errorCodes: Record<string, number>;
  /** Streams given up on after 5 failed connects. */
  readonly failed: number;
  readonly closed: number;
  /** Streams that have every order seen so far (`orders`). */
  readonly complete: number;
  readonly deliveries: number;
  /** Latest arrival of each order (ms since epoch), by order number. */
  readonly lastArrival: Record<number, number>;
}

// ---------------------------------------------------------------- client process

interface StreamState {
  isOpen: boolean;
  head: string;
  tail: string;
  seen: number;
}

async function runClient(client: number, port: number, localAddress: string, count: number): Promise<void> {
  const states: StreamState[] = [];
  const lastArrival: Record<number, number> = {};
  let refused = 0;
  let errors = 0;
  let failed = 0;
  const errorCodes: Record<string, number> = {};
  let closed = 0;
  let deliveries = 0;
  let orders = 0;
  const report = (): void => {
    const complete = states.filter((state) => state.isOpen && state.seen >= orders).length;
    process.send?.({ client, opened: states.filter((state) => state.isOpen).length, refused, errors, errorCodes, failed, closed, complete, deliveries, lastArrival } satisfies ClientReport);
  };
  process.on('message', (message: { orders?: number; stop?: boolean }) => {
    if (message.orders !== undefined) orders = message.orders;
    if (message.stop === true) process.exit(0);
  });
  const onData = (state: StreamState, chunk: string): void => {
    let text = chunk;
    if (!state.isOpen) {
      state.head += chunk;
      const end = state.head.indexOf('\r\n\r\n');
      if (end === -1) return;
      if (!state.head.startsWith('HTTP/1.1 200')) {
        refused += 1;
        return;
      }
      state.isOpen = true;
      text = state.head.slice(end + 4);
      state.head = '';
    }
    const scan = state.tail + text;
    for (let at = scan.indexOf(MARKER); at !== -1; at = scan.indexOf(MARKER, at + 1)) {
      const seq = Number.parseInt(scan.slice(at + MARKER.length, at + MARKER.length + 8), 10);
      if (seq > state.seen) {
        state.seen = seq;
        deliveries += 1;
        lastArrival[seq] = Date.now();
      }
    }
    state.tail = scan.slice(-32);
  };
  /**
   * One attempt: resolves once the answer's head is in (`undefined`: open or refused), or with why
   * it failed (an error code, `closed` before an answer, `timeout` after 60 s). A client fleet
   * waits for its streams to open, so the ramp is paced by the server: with connects only,
   * 1,000 in flight outran the primary's hand-off to the workers.
   */
  const attemptOpen = (state: StreamState, token: string): Promise<string | undefined> =>
    new Promise((resolve) => {
      let isSettled = false;
      const settle = (outcome: string | undefined): void => {
        if (isSettled) return;
        isSettled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const timer = setTimeout(() => {
        socket.destroy();
        settle('timeout');
      }, 60_000);
      const socket: Socket = connect({ host: '127.0.0.1', port, localAddress }, () => {
        socket.write(`GET /api/admin/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      });
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        onData(state, chunk);
        if (state.isOpen || state.head === '' || state.head.includes('\r\n\r\n')) settle(undefined);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => settle(error.code ?? 'error'));
      socket.on('close', () => {
        if (state.isOpen) closed += 1;
        state.isOpen = false;
        settle('closed');
      });
    });
  const open = async (index: number): Promise<void> => {
    const token = await mintJwt({ role: 'admin', sub: `cap-${client}-${index}`, ttlMs: 3_600_000 });
    const state: StreamState = { isOpen: false, head: '', tail: '', seen: 0 };
    states.push(state);
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const outcome = await attemptOpen(state, token);
      if (outcome === undefined) return;
      errors += 1;
      errorCodes[outcome] = (errorCodes[outcome] ?? 0) + 1;
      state.head = '';
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
    failed += 1;
  };
  const timer = setInterval(report, 1000);
  let batchStart = 0;
  const debug = process.env['CAP_DEBUG'] === '1' ? setInterval(() => process.stderr.write(`client ${client}: batch at ${batchStart}, states ${states.length}, open ${states.filter((state) => state.isOpen).length}\n`), 5000) : undefined;
  // At most 200 connects in flight per client: a ramp, not a SYN flood.
  for (let start = 0; start < count; start += 200) {
    batchStart = start;
    await Promise.all(Array.from({ length: Math.min(200, count - start) }, (_, offset) => open(start + offset)));
  }
  if (debug !== undefined) clearInterval(debug);
  report();
  void timer;
}

// ---------------------------------------------------------------- orchestrator

interface Served {
  readonly child: ChildProcess;
  readonly url: string;
  readonly pids: readonly number[];
}

function startServe(): Promise<Served> {
  const logs = process.env['CAP_LOGS'] === '1' ? [] : ['--quiet'];
  const child = spawn(process.execPath, [BIN, 'serve', '--workers', String(WORKERS), '--port', '0', ...logs, '--profile', 'admin-orders', '--heartbeat', '30s'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const pids = /^workers: \d+ \(pids ([\d, ]+)\)$/m.exec(out)?.[1];
      if (url !== undefined && pids !== undefined) {
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        resolve({ child, url, pids: pids.split(', ').map(Number) });
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

function rssMiB(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Math.round(Number(match?.[1] ?? 0) / 1024);
}

async function serverStreams(url: string): Promise<{ total: number; byWorker: Record<string, number> }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const byWorker: Record<string, number> = {};
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^sse_connections_active\{role="admin",worker="(\d+)"\} (\d+)/.exec(line);
    if (match === null) continue;
    byWorker[match[1] as string] = Number(match[2]);
    total += Number(match[2]);
  }
  return { total, byWorker };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function orchestrate(): Promise<void> {
  const served = await startServe();
  const port = Number(new URL(served.url).port);
  const reports = new Map<number, ClientReport>();
  const clients: ChildProcess[] = [];
  const sum = (pick: (report: ClientReport) => number): number => [...reports.values()].reduce((total, report) => total + pick(report), 0);
  const startedAt = Date.now();
  try {
    for (let client = 0; client < CLIENTS; client += 1) {
      const count = Math.floor(STREAMS / CLIENTS) + (client < STREAMS % CLIENTS ? 1 : 0);
      const child = fork(SELF, ['client', String(client), String(port), `127.0.0.${client + 2}`, String(count)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('message', (report: ClientReport) => reports.set(report.client, report));
      clients.push(child);
    }
    const progress = setInterval(() => process.stderr.write(`  … ${sum((r) => r.opened)} open (${[...reports.values()].map((r) => r.opened).join(" ")}), ${sum((r) => r.errors)} connect retries, ${sum((r) => r.refused)} refused, ${sum((r) => r.closed)} closed\n`), 5000);
    await until(() => sum((report) => report.opened + report.refused + report.failed) >= STREAMS, 300_000, `${STREAMS} streams open (${sum((r) => r.opened)} so far)`).finally(() => clearInterval(progress));
    const openMs = Date.now() - startedAt;
    await until(async () => (await serverStreams(served.url)).total >= sum((report) => report.opened), 30_000, 'the server to count every stream');
    const held = await serverStreams(served.url);
    const rss = served.pids.map((pid) => rssMiB(pid));
    const primaryRss = rssMiB(served.child.pid as number);
    const errorCodes: Record<string, number> = {};
    for (const report of reports.values()) for (const [code, count] of Object.entries(report.errorCodes)) errorCodes[code] = (errorCodes[code] ?? 0) + count;
    process.stderr.write(`open: ${sum((r) => r.opened)} streams in ${openMs} ms (refused ${sum((r) => r.refused)}, failed connects ${sum((r) => r.errors)} ${JSON.stringify(errorCodes)}, given up ${sum((r) => r.failed)}); server: ${JSON.stringify(held)}\n`);

    const token = await mintJwt({ role: 'admin', sub: 'cap-producer', ttlMs: 3_600_000 });
    const postedAt: number[] = [];
    for (let seq = 1; seq <= ORDERS; seq += 1) {
      postedAt[seq] = Date.now();
      const answer = await fetch(`${served.url}/orders`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify({ pickup_address: 'a', delivery_address: 'b', boxes_count: 1, marker: `${MARKER}${String(seq).padStart(8, '0')}` }) });
      if (answer.status !== 201) throw new Error(`POST /orders answered ${answer.status}`);
      for (const child of clients) child.send({ orders: seq });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const expected = sum((report) => report.opened) * ORDERS;
    await until(() => sum((report) => report.deliveries) >= expected, 60_000, `every order to every stream (${sum((r) => r.deliveries)} of ${expected})`).catch((error: unknown) => process.stderr.write(`${String(error)}\n`));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const fanOutMs = Array.from({ length: ORDERS }, (_, index) => Math.max(...[...reports.values()].map((report) => report.lastArrival[index + 1] ?? Number.NaN)) - (postedAt[index + 1] ?? 0));
    const before = {
      streamsOpen: sum((report) => report.opened),
      deliveries: sum((report) => report.deliveries),
      streamsWithEveryOrder: sum((report) => report.complete),
      closedDuringRun: sum((report) => report.closed),
    };
    const rssAfterOrders = served.pids.map((pid) => rssMiB(pid));
    const stopAt = Date.now();
    process.stderr.write(`SIGTERM at ${new Date(stopAt).toISOString()}\n`);
    served.child.kill('SIGTERM');
    await new Promise((resolve) => served.child.once('exit', resolve));
    const result = {
      date: new Date().toISOString(),
      workers: WORKERS,
      clientProcesses: CLIENTS,
      streamsPlanned: STREAMS,
      streamsOpen: before.streamsOpen,
      connectRetries: errorCodes,
      streamsGivenUp: sum((report) => report.failed),
      streamsByWorker: held.byWorker,
      serverCounted: held.total,
      openMs,
      rssMiBByWorker: rss,
      rssMiBByWorkerAfterOrders: rssAfterOrders,
      rssMiBPrimary: primaryRss,
      orders: ORDERS,
      deliveriesExpected: expected,
      deliveries: before.deliveries,
      streamsWithEveryOrder: before.streamsWithEveryOrder,
      closedDuringRun: before.closedDuringRun,
      fanOutMsPerOrder: fanOutMs,
      sigtermExitMs: Date.now() - stopAt,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const child of clients) if (child.connected) child.send({ stop: true });
    if (served.child.exitCode === null) served.child.kill('SIGKILL');
  }
}

if (process.argv[2] === 'client') {
  const [client, port, localAddress, count] = process.argv.slice(3);
  void runClient(Number(client), Number(port), localAddress as string, Number(count));
} else {
  orchestrate().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
