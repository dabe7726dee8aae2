/**
 * The ssekit side of `bench:perf`: the real bench engine (`runBench`, the client fleet, the
 * delivery tracker, HDR histograms) under the same load as the raw client. Prints one JSON line.
 *
 * usage: ssekit-client <mode> <origin> <token> <json-args>
 */
import { runBench } from '../../src/bench/run-bench.js';
import { buildPlan } from '../../src/bench/scenario.js';
import { createProducer } from '../../src/producers/producer.js';
import { createStreamAgent } from '../../src/transport/agent.js';
import { settleHeap, WARMUP_MS, type PerfArgs } from './perf-common.js';

const [mode, origin, token, argsJson] = process.argv.slice(2) as [string, string, string, string];
const args = JSON.parse(argsJson) as PerfArgs;

async function main(): Promise<void> {
  const baseline = await settleHeap();
  const durationMs = args.durationMs ?? 5_000;
  const planFor = (runMs: number) => {
    const raw: Record<string, unknown> = {
      name: `perf-${mode}`,
      target: origin,
      streams: ['/api/admin/events'],
      auth: { token },
      clients: { count: args.clients, rampUp: mode === 'capacity' ? `${Math.ceil(args.clients / 1000)}s` : '1s' },
      duration: `${runMs}ms`,
      thresholds: [],
      leak: { grace: '0s' },
      connectTimeout: '30s',
    };
    if (args.rate !== undefined) raw['publish'] = { producer: '/orders', rate: args.rate, body: '{"pickup_address":"{{nonce}}","delivery_address":"x","boxes_count":1}', auth: { token } };
    if (args.churn !== undefined) raw['churn'] = { rate: args.churn, mode: 'graceful' };
    return buildPlan(raw, { thresholds: ['errors<100%'] }, 'perf');
  };
  const plan = planFor(durationMs);
  const dispatcher = createStreamAgent({ connectTimeoutMs: 30_000 });
  const producerOn = (via: typeof dispatcher) => (url: string) => createProducer(url, { headers: { authorization: `Bearer ${token}` }, dispatcher: via });
  // As the raw client does: publish for WARMUP_MS first, unmeasured, so both measure compiled
  // code (on a dispatcher of its own: a run releases the one it is given).
  if (mode === 'throughput' || mode === 'latency') {
    const warmUpDispatcher = createStreamAgent({ connectTimeoutMs: 30_000 });
    await runBench({ plan: planFor(WARMUP_MS), createProducer: producerOn(warmUpDispatcher), dispatcher: warmUpDispatcher, version: 'perf' }, { signal: new AbortController().signal });
  }
  let heapPerStreamBytes = Number.NaN;
  let openAtMeasure = 0;
  const gc = (globalThis as { gc?: () => void }).gc;
  // CPU spent while events flow (steady phase and drain), not in ramp-up or settling.
  let cpuAtSteady: NodeJS.CpuUsage | undefined;
  let cpuAtSettle: NodeJS.CpuUsage | undefined;
  const result = await runBench(
    {
      plan,
      createProducer: producerOn(dispatcher),
      dispatcher,
      version: 'perf',
    },
    {
      signal: new AbortController().signal,
      onProgress(progress) {
        if (progress.phase === 'steady' && cpuAtSteady === undefined) cpuAtSteady = process.cpuUsage();
        if (progress.phase === 'settling' && cpuAtSettle === undefined && cpuAtSteady !== undefined) cpuAtSettle = process.cpuUsage(cpuAtSteady);
        if (mode === 'capacity' && Number.isNaN(heapPerStreamBytes) && progress.phase === 'steady' && progress.open === progress.planned) {
          gc?.();
          gc?.();
          openAtMeasure = progress.open;
          heapPerStreamBytes = (process.memoryUsage().heapUsed - baseline) / progress.open;
        }
      },
    },
  );
  const out: Record<string, number | null> = { open: mode === 'capacity' ? openAtMeasure : result.clients.peakOpen };
  if (mode === 'capacity') {
    out['heapPerStreamBytes'] = heapPerStreamBytes;
    out['rssBytes'] = result.self.maxRssBytes;
  }
  if (mode === 'throughput' || mode === 'latency') {
    out['deliveries'] = result.events.delivered;
    out['cpuUsPerDelivery'] = cpuAtSettle === undefined ? null : (cpuAtSettle.user + cpuAtSettle.system) / Math.max(1, result.events.received);
    out['deliveriesPerSecond'] = result.events.delivered / (durationMs / 1000);
    out['lost'] = result.events.lost;
    out['samples'] = result.latency.summary.count;
    out['p50Ms'] = result.latency.summary.p50Ms;
    out['p99Ms'] = result.latency.summary.p99Ms;
    out['maxMs'] = result.latency.summary.maxMs;
  }
  if (mode === 'reconnect') {
    out['reconnectsPerSecond'] = result.reconnects.total / (durationMs / 1000);
    out['requestedPerSecond'] = (args.churn ?? 0) * args.clients;
    out['socketsAtStart'] = result.self.socketsAtStart;
    out['socketsAtEnd'] = result.self.socketsAtEnd;
    out['errors'] = result.errors.total;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(0);
}

void main();
