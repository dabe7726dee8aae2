/**
 * The bench engine in process (`runBench`), against the reference backend and a scripted test
 * server: a small fleet with publishing is measured completely, refusals stop the run with the
 * typed error the CLI reports, and an interrupted run still returns its result.
 */
import { describe, expect, it } from 'vitest';
import { HttpStatusError, ProtocolError } from '../../src/core/errors.js';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import { runBench, type BenchRunOptions } from '../../src/bench/run-bench.js';
import { buildPlan } from '../../src/bench/scenario.js';
import { createServerCountReader } from '../../src/bench/server-count.js';
import { createProducer } from '../../src/producers/producer.js';
import { createStreamAgent } from '../../src/transport/agent.js';
import type { BenchProgress } from '../../src/bench/progress.js';
import { startTestServer, mintToken } from '../helpers/serve-process.js';
import { jsonResponse, startSseServer } from '../helpers/sse-server.js';

const never = new AbortController().signal;

async function adminOrdersPlan(extra: Record<string, unknown> = {}) {
  const server = await startTestServer({ profiles: ['admin-orders'], heartbeatMs: 1000 });
  const raw = {
    name: 'in-process',
    target: server.url,
    streams: ['/api/admin/events'],
    auth: { jwtSecret: DEV_JWT_SECRET, claims: { role: 'admin', sub: 'vu-{{vu}}' } },
    clients: { count: 10, rampUp: '200ms' },
    duration: '1500ms',
    publish: { producer: '/orders', rate: 20, body: '{"pickup_address":"{{nonce}}","delivery_address":"x","boxes_count":1}', auth: { jwtSecret: DEV_JWT_SECRET, claims: { role: 'admin', sub: 'publisher' } } },
    serverStats: { url: '/metrics', metric: 'sse_connections_active{role="admin"}' },
    leak: { grace: '2s' },
    // serve runs in this process: its work is this event loop's lag, hence the generous lag.p99.
    thresholds: ['p99<2s', 'loss==0', 'leaks==0', 'lag.p99<5s'],
    ...extra,
  };
  return { server, plan: buildPlan(raw, {}, 'in-process.yaml') };
}

async function optionsFor(plan: ReturnType<typeof buildPlan>): Promise<BenchRunOptions> {
  const dispatcher = createStreamAgent({ connectTimeoutMs: 5_000 });
  const token = await mintToken({ sub: 'publisher', role: 'admin' });
  return {
    plan,
    dispatcher,
    createProducer: (url) => createProducer(url, { headers: {}, token: { token }, dispatcher }),
    readServerCount: await createServerCountReader(plan, dispatcher),
    version: 'test',
  };
}

describe('runBench in process', () => {
  it('runs 10 clients with publishing: every delivery measured, no loss, no leak, thresholds passed', async () => {
    const { plan } = await adminOrdersPlan();
    const phases = new Set<BenchProgress['phase']>();
    const result = await runBench(await optionsFor(plan), { signal: never, onProgress: (p) => void phases.add(p.phase) });
    expect(result.endReason).toBe('passed');
    expect(result.clients).toMatchObject({ planned: 10, peakOpen: 10 });
    expect(result.events.published).toBe(30);
    expect(result.events.expectedDeliveries).toBe(300);
    expect(result.events.delivered).toBe(300);
    expect(result.events.lost).toBe(0);
    expect(result.latency.summary.count).toBe(300);
    expect(result.leak).toMatchObject({ verdict: 'ok', baseline: 0, final: 0 });
    expect(result.thresholds.every((t) => t.passed)).toBe(true);
    expect(result.self.socketsAtEnd).toBe(result.self.socketsAtStart);
    expect([...phases]).toContain('settling');
  });

  it('returns an interrupted result, not an error, when aborted during the steady state', async () => {
    const { plan } = await adminOrdersPlan({ duration: '30s' });
    const controller = new AbortController();
    const result = await runBench(await optionsFor(plan), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'steady') controller.abort();
      },
    });
    expect(result.endReason).toBe('interrupted');
    expect(result.clients.peakOpen).toBe(10);
    expect(result.durationMs).toBeLessThan(15_000);
  });

  it("flags a run whose own event loop lagged (lag.p99 guard fails, the report says the latency includes ssekit's lag)", async () => {
    const { plan } = await adminOrdersPlan({ thresholds: ['p99<2s', 'loss==0', 'leaks==0'] });
    // Something else in this process hogs the loop (as thousands of clients would): 120 ms of every 150.
    const hog = setInterval(() => {
      const until = performance.now() + 120;
      while (performance.now() < until);
    }, 150);
    let result;
    try {
      result = await runBench(await optionsFor(plan), { signal: never });
    } finally {
      clearInterval(hog);
    }
    expect(result.self.eventLoopDelay?.p99Ms).toBeGreaterThan(50);
    expect(result.thresholds.find((t) => t.expression === 'lag.p99<50ms')).toMatchObject({ passed: false });
    expect(result.endReason).toBe('failed');
    expect(result.diagnoses?.join('\n')).toMatch(/ssekit's own process lagged p99 \d+ ms.*: these latency figures include ssekit's lag; use fewer clients per process or --workers/);
  });

  it('does not flag a light run', async () => {
    // A server that does almost nothing, so this loop's lag is the fleet's own.
    const server = await startSseServer({ body: ': hello\n\ndata: x\n\n', then: 'hold' });
    const plan = buildPlan({ name: 'light', target: server.origin, streams: ['/events'], clients: 5, duration: '1500ms', leak: { grace: '0s' } }, {}, 'light.yaml');
    const result = await runBench({ plan, version: 'test' }, { signal: never });
    expect(result.thresholds.find((t) => t.expression === 'lag.p99<50ms')).toMatchObject({ passed: true });
    expect(result.diagnoses?.join('\n') ?? '').not.toMatch(/lagged/);
    expect(result.self.cpuShare).toBeGreaterThanOrEqual(0);
  });

  it('throws the refusal when every client is refused (401), after releasing everything', async () => {
    const server = await startSseServer(jsonResponse(401, { detail: 'Not authenticated' }));
    const plan = buildPlan({ name: 'refused', target: server.origin, streams: ['/events'], clients: 3, duration: '1s' }, {}, 'refused.yaml');
    const dispatcher = createStreamAgent();
    await expect(runBench({ plan, dispatcher, version: 'test' }, { signal: never })).rejects.toBeInstanceOf(HttpStatusError);
    expect(server.requests).toHaveLength(3);
  });

  it('throws a protocol error when the target is not an event stream', async () => {
    const server = await startSseServer({ headers: { 'content-type': 'text/html' }, body: '<html></html>' });
    const plan = buildPlan({ name: 'html', target: server.origin, streams: ['/events'], clients: 2, duration: '1s' }, {}, 'html.yaml');
    await expect(runBench({ plan, version: 'test' }, { signal: never })).rejects.toBeInstanceOf(ProtocolError);
  });
});
