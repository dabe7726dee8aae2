/**
 * The pure parts of `serve --workers` (issue 14 point 3): the whole-server /metrics text, the
 * primary's per-user limits across workers, and the gateway's replay ring fed with the bus's
 * sequence numbers (ids that agree across workers, a replacement worker starting mid-stream).
 */
import { describe, expect, it } from 'vitest';
import { renderWorkerMetrics, type MetricJson } from '../../src/serve/cluster/cluster-metrics.js';
import { ClusterLimits } from '../../src/serve/cluster/limits.js';
import { HttpError } from '../../src/serve/http.js';
import { createReplayBuffer, planReplay, type BufferedEvent } from '../../src/serve/profiles/gateway-replay.js';
import { decideLimit } from '../../src/serve/stream-limits.js';

const gauge = (value: number): MetricJson[] => [
  { name: 'sse_connections_active', help: 'streams', type: 'gauge', values: [{ value, labels: { role: 'admin' } }] },
  {
    name: 'sse_connection_duration_seconds',
    help: 'How long "streams" stayed\nopen \\ closed',
    type: 'histogram',
    values: [
      { value: 1, labels: { le: 0.5, role: 'admin' }, metricName: 'sse_connection_duration_seconds_bucket' },
      { value: 2, labels: { le: '+Inf', role: 'admin' }, metricName: 'sse_connection_duration_seconds_bucket' },
      { value: 2, labels: { role: 'admin' }, metricName: 'sse_connection_duration_seconds_count' },
    ],
  },
];

describe('renderWorkerMetrics', () => {
  it('labels every series with its worker, writes each family header once, and says which workers answered', () => {
    const text = renderWorkerMetrics([{ worker: 2, value: gauge(3) }, { worker: 1, value: gauge(4) }, { worker: 3, isMissing: true }]);
    expect(text.split('\n').filter((line) => line === '# TYPE sse_connections_active gauge')).toHaveLength(1);
    expect(text).toContain('sse_connections_active{role="admin",worker="1"} 4\nsse_connections_active{role="admin",worker="2"} 3\n');
    expect(text).toContain('sse_connection_duration_seconds_bucket{le="+Inf",role="admin",worker="2"} 2');
    expect(text).toContain('sse_connection_duration_seconds_bucket{le="0.5",role="admin",worker="1"} 1');
    expect(text).toContain('# HELP sse_connection_duration_seconds How long "streams" stayed\\nopen \\\\ closed');
    expect(text).toContain('sse_worker_up{worker="1"} 1\nsse_worker_up{worker="2"} 1\nsse_worker_up{worker="3"} 0\n');
  });

  it('escapes label values as the text format requires', () => {
    const text = renderWorkerMetrics([{ worker: 1, value: [{ name: 'x', help: 'h', type: 'counter', values: [{ value: 1, labels: { path: 'a"b\\c\nd' } }] }] }]);
    expect(text).toContain('x{path="a\\"b\\\\c\\nd",worker="1"} 1');
  });
});

describe('limits across workers', () => {
  it('decideLimit admits up to max, then rejects with 409 or evicts the oldest', () => {
    const holders: number[] = [];
    for (const id of [1, 2]) expect(decideLimit(holders, { key: 'k', max: 2, policy: 'reject' }, id).evicted).toEqual([]);
    expect(() => decideLimit(holders, { key: 'k', max: 2, policy: 'reject' }, 3)).toThrow(HttpError);
    expect(decideLimit(holders, { key: 'k', max: 2, policy: 'close-oldest' }, 3).evicted).toEqual([1]);
    expect(holders).toEqual([2, 3]);
  });

  it('counts one key over every worker, evicts on the worker that holds the oldest, and forgets a dead worker', () => {
    const limits = new ClusterLimits();
    const admin = { key: 'admin-orders:1', max: 1, policy: 'close-oldest' } as const;
    expect(limits.acquire(admin, { worker: 1, holder: 7 })).toEqual([]);
    expect(limits.acquire(admin, { worker: 2, holder: 3 })).toEqual([{ worker: 1, holder: 7 }]);
    const gateway = { key: 'gateway:g', max: 2, policy: 'reject' } as const;
    limits.acquire(gateway, { worker: 1, holder: 1 });
    limits.acquire(gateway, { worker: 2, holder: 1 });
    expect(() => limits.acquire(gateway, { worker: 3, holder: 1 })).toThrow(/at most 2/);
    limits.release('gateway:g', { worker: 1, holder: 1 });
    expect(limits.acquire(gateway, { worker: 3, holder: 1 })).toEqual([]);
    limits.forgetWorker(2);
    expect(limits.acquire(gateway, { worker: 1, holder: 2 })).toEqual([]);
  });
});

describe('gateway replay ring with the bus sequence', () => {
  const entry = (id: number): BufferedEvent => ({ id, event: 'deal.created', frames: [Buffer.from(`v1-${id}`), Buffer.from(`v2-${id}`)] });
  const ids = (events: readonly BufferedEvent[]): number[] => events.map((event) => event.id);

  it('keeps the given ids (gaps allowed) and ignores one that is not above the last', () => {
    const ring = createReplayBuffer(10);
    for (const id of [1, 2, 4, 5]) ring.append(entry, id);
    expect(ring.append(entry, 5)).toBeUndefined();
    expect(ring.lastId()).toBe(5);
    expect(ids(ring.after(1))).toEqual([2, 4, 5]);
  });

  it('started mid-stream (a replacement worker), holds nothing before its first id: older ids are truncated, not silently skipped', () => {
    const ring = createReplayBuffer(1000);
    for (let id = 5001; id <= 5003; id += 1) ring.append(entry, id);
    expect(ring.oldestId()).toBe(5001);
    expect(planReplay('4990', ring)).toMatchObject({ truncated: { lastEventId: '4990', oldestId: 5001 } });
    expect(ids(planReplay('5000', ring).events)).toEqual([5001, 5002, 5003]);
    expect(planReplay('5000', ring).truncated).toBeUndefined();
  });
});
