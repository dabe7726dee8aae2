/**
 * `--expect` parsing and evaluation, and the rows `ssekit stats` shows: histograms folded into
 * one row per series, selectors, and the watch view's change and counter rates.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { parseServerStats } from '../../src/server-stats/read-stats.js';
import { evaluateExpectations, parseExpectation } from '../../src/stats/expectations.js';
import { buildRows } from '../../src/stats/run-stats.js';

const SEED000 = readFileSync(new URL('../fixtures/stats/seed000-metrics.txt', import.meta.url), 'utf8');
const prom = parseServerStats(SEED000, 'text/plain; version=0.0.4');

describe('--expect', () => {
  it('splits selector, operator and number, leaving label matchers and indexes in the selector', () => {
    expect(parseExpectation('sse_connections_active==0')).toEqual({ expression: 'sse_connections_active==0', selector: 'sse_connections_active', op: '==', threshold: 0 });
    expect(parseExpectation('sse_connections_active{role!="admin"} <= 2.5')).toMatchObject({ selector: 'sse_connections_active{role!="admin"}', op: '<=', threshold: 2.5 });
    expect(parseExpectation('admins[0][1]>=1e3')).toMatchObject({ selector: 'admins[0][1]', op: '>=', threshold: 1000 });
    expect(parseExpectation('Active connections<300')).toMatchObject({ selector: 'Active connections', op: '<' });
    expect(parseExpectation('x!=-1')).toMatchObject({ op: '!=', threshold: -1 });
  });

  it.each([
    ['sse_connections_active', /no operator/],
    ['==0', /no figure before the operator/],
    ['a=0', /'=0' is not an operator \(use == for equality\)/],
    ['a<lots', /'lots' is not a number/],
  ])('rejects %j with a UsageError', (text, message) => {
    expect(() => parseExpectation(text)).toThrow(UsageError);
    expect(() => parseExpectation(text)).toThrow(message);
  });

  it('passes, fails with the value, and fails an absent figure', () => {
    const results = evaluateExpectations(prom, ['sse_connections_active==3', 'sse_connections_active{role="admin"}<2', 'no_such_metric==0', 'sse_events_dropped_total==0'].map(parseExpectation));
    expect(results).toEqual([
      { expression: 'sse_connections_active==3', value: 3, passed: true },
      { expression: 'sse_connections_active{role="admin"}<2', value: 2, passed: false, reason: '2 is not < 2' },
      { expression: 'no_such_metric==0', value: null, passed: false, reason: 'no such figure' },
      { expression: 'sse_events_dropped_total==0', value: 0, passed: true },
    ]);
  });
});

describe('rows', () => {
  it('shows every figure in family order, one row per histogram series instead of its buckets, and 0 for a declared family without series', () => {
    const rows = buildRows(prom, []);
    expect(rows.map((r) => r.label)).toEqual([
      'sse_connections_active{role="admin"}',
      'sse_connections_active{role="customer"}',
      'admin_events_emitted_total{event_type="order.created"}',
      'admin_events_emitted_total{event_type="order.updated"}',
      'sse_events_dropped_total',
      'sse_connection_duration_seconds{role="admin"}',
      'sse_connection_duration_seconds{role="customer"}',
    ]);
    expect(rows[4]).toMatchObject({ kind: 'counter', value: 0 });
    expect(rows[5]).toMatchObject({ kind: 'histogram', value: 10, histogram: { count: 10, sum: 95.5, p50: 4, p99: expect.closeTo(15 + 45 * (1.9 / 2)) } });
  });

  it('shows selected figures, and a histogram selector as the sum then each series', () => {
    const rows = buildRows(prom, ['sse_connections_active', 'sse_connection_duration_seconds', 'nope']);
    expect(rows.map((r) => [r.label, r.value])).toEqual([
      ['sse_connections_active', 3],
      ['sse_connection_duration_seconds', 12],
      ['sse_connection_duration_seconds{role="admin"}', 10],
      ['sse_connection_duration_seconds{role="customer"}', 2],
      ['nope', undefined],
    ]);
  });

  it('adds the change since the last sample and counter rates per second, and notices resets', () => {
    const before = buildRows(prom, []);
    const later = parseServerStats(SEED000.replace('sse_connections_active{role="admin"} 2', 'sse_connections_active{role="admin"} 5').replace('event_type="order.created"} 7', 'event_type="order.created"} 17').replace('event_type="order.updated"} 3', 'event_type="order.updated"} 1'), undefined);
    const rows = buildRows(later, [], before, 2);
    expect(rows[0]).toMatchObject({ value: 5, change: 3 });
    expect(rows[0]?.ratePerSecond).toBeUndefined();
    expect(rows[2]).toMatchObject({ kind: 'counter', change: 10, ratePerSecond: 5 });
    expect(rows[3]).toMatchObject({ isReset: true, ratePerSecond: 0.5 });
    expect(rows[5]).toMatchObject({ change: 0, ratePerSecond: 0 });
  });

  it('reads JSON paths and status-page keys as selected rows', () => {
    const json = parseServerStats('{"total_connections":7,"admins":[[1,7],[1,7]]}', 'application/json');
    expect(buildRows(json, ['total_connections', 'admins']).map((r) => [r.label, r.value])).toEqual([
      ['total_connections', 7],
      ['admins', 2],
    ]);
  });
});
