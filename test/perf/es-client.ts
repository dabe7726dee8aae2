/**
 * The peers a user would otherwise script, for `bench:perf`: the npm `eventsource` package (v4,
 * the WHATWG EventSource over fetch) and undici's own `EventSource`. Each stream is one
 * EventSource; events are counted and, for latency, matched by the same `raw-<seq>-` marker as
 * the raw client. The token goes in the query (`?token=`, seed 000 accepts it), which both
 * support the same way.
 *
 * usage: es-client <impl: eventsource|undici> <mode: capacity|latency> <origin> <token> <json-args>
 */
import { collect, publishAt, settleHeap, warmUp, type PerfArgs } from './perf-common.js';

const [impl, mode, origin, token, argsJson] = process.argv.slice(2) as [string, string, string, string, string];
const args = JSON.parse(argsJson) as PerfArgs;

interface EventSourceLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(): void;
}
type EventSourceClass = new (url: string) => EventSourceLike;

async function loadImplementation(): Promise<EventSourceClass> {
  if (impl === 'undici') return (await import('undici')).EventSource as unknown as EventSourceClass;
  return (await import('eventsource')).EventSource as unknown as EventSourceClass;
}

async function main(): Promise<void> {
  const EventSource = await loadImplementation();
  const baseline = await settleHeap();
  const url = `${origin}/api/admin/events?token=${encodeURIComponent(token)}`;
  let open = 0;
  let events = 0;
  const sentAt = new Float64Array(args.events ?? 0);
  const latencies: number[] = [];
  const sources: EventSourceLike[] = [];
  const openOne = (): Promise<void> =>
    new Promise((resolve) => {
      const source = new EventSource(url);
      let isOpen = false;
      source.onopen = () => {
        if (!isOpen) open += 1;
        isOpen = true;
        resolve();
      };
      source.onerror = () => resolve();
      source.onmessage = (event) => {
        events += 1;
        if (mode !== 'latency') return;
        const at = event.data.indexOf('raw-');
        if (at !== -1) latencies.push(performance.now() - (sentAt[Number.parseInt(event.data.slice(at + 4), 10)] as number));
      };
      sources.push(source);
    });
  for (let i = 0; i < args.clients; i += 200) await Promise.all(Array.from({ length: Math.min(200, args.clients - i) }, openOne));
  const result: Record<string, number> = { open };
  if (mode === 'capacity') {
    result['heapPerStreamBytes'] = ((await settleHeap()) - baseline) / Math.max(1, open);
    result['rssBytes'] = process.memoryUsage().rss;
  } else {
    await warmUp(origin, token, args.rate ?? 1, open, () => events);
    const before = events;
    await publishAt(origin, token, args.rate ?? 1, args.events ?? 0, (seq) => `{"pickup_address":"raw-${seq}-","delivery_address":"x","boxes_count":1}`, (seq, scheduledAt) => {
      sentAt[seq] = scheduledAt;
    });
    const expected = (args.events ?? 0) * open;
    const deadline = performance.now() + 5000;
    while (events - before < expected && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    result['deliveries'] = events - before;
    result['lost'] = Math.max(0, expected - (events - before));
    Object.assign(result, collect(latencies));
  }
  for (const source of sources) source.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

void main();
