/**
 * The minimal raw client `bench:perf` compares ssekit with: one undici Client per stream and
 * eventsource-parser, counting events and (for latency) matching a sequence number, with no
 * other bookkeeping. Runs in its own process; prints one JSON line with its figures.
 *
 * usage: raw-client <mode> <origin> <token> <json-args>
 */
import { Client } from 'undici';
import { createParser } from 'eventsource-parser';
import { collect, publishAt, settleHeap, warmUp, type PerfArgs } from './perf-common.js';

const [mode, origin, token, argsJson] = process.argv.slice(2) as [string, string, string, string];
const args = JSON.parse(argsJson) as PerfArgs;
const PATH = '/api/admin/events';

let events = 0;
let open = 0;
const sentAt = new Float64Array(args.events ?? 0);
const latencies: number[] = [];

interface RawStream {
  client: Client;
  abort?: (() => void) | undefined;
}

function openStream(stream: RawStream): Promise<void> {
  return new Promise((resolve) => {
    const parser = createParser({
      onEvent(event) {
        events += 1;
        if (mode === 'latency') {
          const at = event.data.indexOf('raw-');
          if (at !== -1) {
            const seq = Number.parseInt(event.data.slice(at + 4), 10);
            latencies.push(performance.now() - (sentAt[seq] as number));
          }
        }
      },
    });
    let isOpen = false;
    stream.client.dispatch(
      { path: PATH, method: 'GET', headers: { accept: 'text/event-stream', authorization: `Bearer ${token}` }, bodyTimeout: 0 },
      {
        onRequestStart(controller) {
          stream.abort = () => controller.abort(new Error('closed'));
        },
        onResponseStart() {
          isOpen = true;
          open += 1;
          resolve();
        },
        onResponseData(_c, chunk: Buffer) {
          parser.feed(chunk.toString());
        },
        onResponseEnd() {
          if (isOpen) open -= 1;
        },
        onResponseError() {
          if (isOpen) open -= 1;
          else resolve();
        },
      },
    );
  });
}

async function main(): Promise<void> {
  const baseline = await settleHeap();
  const streams: RawStream[] = [];
  for (let i = 0; i < args.clients; i++) {
    const stream: RawStream = { client: new Client(origin, { bodyTimeout: 0, keepAliveTimeout: 1 }) };
    stream.client.on('connectionError', () => undefined);
    streams.push(stream);
  }
  // Open in batches so the server's accept queue keeps up.
  for (let i = 0; i < streams.length; i += 200) await Promise.all(streams.slice(i, i + 200).map(openStream));
  const result: Record<string, number> = { open };

  if (mode === 'capacity') {
    const heap = await settleHeap();
    result['heapPerStreamBytes'] = (heap - baseline) / Math.max(1, open);
    result['rssBytes'] = process.memoryUsage().rss;
  } else if (mode === 'throughput' || mode === 'latency') {
    await warmUp(origin, token, args.rate ?? 1, open, () => events);
    const before = events;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    await publishAt(origin, token, args.rate ?? 1, args.events ?? 0, (seq) => `{"pickup_address":"raw-${seq}-","delivery_address":"x","boxes_count":1}`, (seq, scheduledAt) => {
      sentAt[seq] = scheduledAt;
    });
    // Let the last deliveries arrive, then divide by the nominal window (as the ssekit side does).
    const expected = (args.events ?? 0) * open;
    const deadline = performance.now() + 5000;
    while (events - before < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    void started;
    const cpu = process.cpuUsage(cpuBefore);
    result['cpuUsPerDelivery'] = (cpu.user + cpu.system) / Math.max(1, events - before);
    result['deliveries'] = events - before;
    result['deliveriesPerSecond'] = (events - before) / ((args.events ?? 0) / (args.rate ?? 1));
    result['lost'] = Math.max(0, expected - (events - before));
    if (mode === 'latency') Object.assign(result, collect(latencies));
  } else if (mode === 'reconnect') {
    // Paced like ssekit's churn (`churn` × clients per second requested): one stream at a time,
    // round robin, closed and reopened on schedule without waiting for the previous reopen.
    const rate = (args.churn ?? 1) * streams.length;
    const durationMs = args.durationMs ?? 5000;
    const startedAt = performance.now();
    let reconnects = 0;
    const pending: Promise<void>[] = [];
    for (let i = 0; performance.now() - startedAt < durationMs; i++) {
      const due = startedAt + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const stream = streams[i % streams.length] as RawStream;
      stream.abort?.();
      pending.push(openStream(stream).then(() => void (reconnects += 1)));
    }
    await Promise.all(pending);
    result['reconnectsPerSecond'] = reconnects / (durationMs / 1000);
    result['requestedPerSecond'] = rate;
  }
  await Promise.all(streams.map((s) => s.client.destroy()));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

void main();
