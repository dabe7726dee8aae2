/**
 * Server-figure parsers: Prometheus text (seed 000's metrics, OpenMetrics escapes, summaries,
 * NaN/±Inf, timestamps, exemplars), seed 002's stats JSON, nginx stub_status; format detection;
 * selectors; duplicate streams.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProtocolError, UsageError } from '../../src/core/errors.js';
import { findDuplicateStreams } from '../../src/server-stats/duplicates.js';
import { parseJsonPath } from '../../src/core/json-path.js';
import { selectJsonPath } from '../../src/server-stats/json-stats.js';
import { estimateQuantile, formatSeries, parsePrometheusText } from '../../src/server-stats/prometheus.js';
import { detectStatsFormat, parseServerStats, selectFigure } from '../../src/server-stats/read-stats.js';
import { parseStatusPage } from '../../src/server-stats/status-page.js';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/stats/${name}`, import.meta.url), 'utf8');
const SEED000 = fixture('seed000-metrics.txt');
const SEED002 = fixture('seed002-stats.json');
const NGINX = fixture('nginx-stub-status.txt');
const OPENMETRICS = fixture('openmetrics.txt');

describe('Prometheus text', () => {
  it("reads seed 000's gauge, counter and histogram with their types and labels", () => {
    const parsed = parsePrometheusText(SEED000);
    expect(parsed.figures.filter((f) => f.name === 'sse_connections_active')).toEqual([
      { name: 'sse_connections_active', value: 2, kind: 'gauge', labels: { role: 'admin' } },
      { name: 'sse_connections_active', value: 1, kind: 'gauge', labels: { role: 'customer' } },
    ]);
    expect(parsed.figures.find((f) => f.name === 'admin_events_emitted_total')).toMatchObject({ kind: 'counter', value: 7, labels: { event_type: 'order.created' } });
    expect(parsed.figures.find((f) => f.name === 'sse_connection_duration_seconds_sum')).toMatchObject({ kind: 'histogram', value: 95.5 });
    expect(parsed.families.find((f) => f.name === 'sse_events_dropped_total')).toMatchObject({ kind: 'counter', help: expect.stringContaining('skipped') });
  });

  it('groups histogram buckets per series, sorted, with +Inf, sum and count', () => {
    const { histograms } = parsePrometheusText(SEED000);
    expect(histograms).toHaveLength(2);
    const admin = histograms.find((h) => h.labels['role'] === 'admin');
    expect(admin).toMatchObject({ name: 'sse_connection_duration_seconds', labels: { role: 'admin' }, sum: 95.5, count: 10 });
    expect(admin?.buckets.map((b) => b.le)).toEqual([0.1, 0.5, 1, 5, 15, 60, Number.POSITIVE_INFINITY]);
  });

  it('estimates quantiles from buckets like histogram_quantile', () => {
    const buckets = [
      { le: 1, count: 2 },
      { le: 5, count: 6 },
      { le: 15, count: 8 },
      { le: Number.POSITIVE_INFINITY, count: 10 },
    ];
    expect(estimateQuantile(buckets, 0.5)).toBeCloseTo(1 + 4 * (3 / 4)); // rank 5 of 10 in (1, 5]
    expect(estimateQuantile(buckets, 0.1)).toBeCloseTo(0.5); // rank 1 in (0, 1]
    expect(estimateQuantile(buckets, 0.99)).toBe(15); // in +Inf: the highest finite bound
    expect(estimateQuantile([{ le: 1, count: 0 }], 0.5)).toBeNaN();
  });

  it('handles OpenMetrics: escaped labels, trailing comma, timestamps, summaries, NaN, ±Inf, quoted names, exemplars', () => {
    const parsed = parsePrometheusText(OPENMETRICS);
    const total = parsed.figures.find((f) => f.name === 'http_requests_total');
    expect(total).toEqual({ name: 'http_requests_total', value: 1027, kind: 'counter', labels: { path: '/a"b', note: 'line1\nline2', dir: 'C:\\tmp' } });
    expect(parsed.families.find((f) => f.name === 'http_requests')?.help).toBe('Requests, with "quotes" and a \\ backslash');
    expect(parsed.figures.find((f) => f.name === 'rpc_duration_seconds' && f.labels['quantile'] === '0.99')?.value).toBeNaN();
    expect(parsed.figures.find((f) => f.name === 'rpc_duration_seconds_count')).toMatchObject({ kind: 'summary', value: 2693 });
    expect(parsed.figures.find((f) => f.name === 'rpc_duration_seconds_sum')?.value).toBe(1.7560473e7);
    expect(parsed.figures.filter((f) => f.name === 'temperature').map((f) => f.value)).toEqual([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY]);
    expect(parsed.figures.find((f) => f.name === 'my.dotted.metric')).toMatchObject({ value: 3, labels: { zone: 'eu' } });
    expect(parsed.figures.find((f) => f.name === 'untyped_thing')).toMatchObject({ value: 42, kind: 'untyped' });
    expect(formatSeries('x', { path: '/a"b', note: 'a\nb' })).toBe('x{path="/a\\"b",note="a\\nb"}');
  });

  it('reads CRLF line ends', () => {
    expect(parsePrometheusText('# TYPE a gauge\r\na 1\r\n').figures).toEqual([{ name: 'a', value: 1, kind: 'gauge', labels: {} }]);
  });

  it.each([
    ['a{role="x} 1', /unterminated quoted string/],
    ['a{role=x} 1', /must be in double quotes/],
    ['a 12abc', /'12abc' is not a number/],
    ['a{b="1",b="2"} 1', /label b given twice/],
    ['# TYPE a wibble', /unknown metric type 'wibble'/],
  ])('rejects %j with a one-line ProtocolError naming the line', (text, why) => {
    const error = (() => {
      try {
        parsePrometheusText(`# TYPE ok gauge\nok 1\n${text}\n`);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/^Prometheus text, line 3: /);
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).not.toContain('\n');
  });
});

describe('JSON stats (seed 002)', () => {
  it('lists numeric leaves by path and arrays by length, not every id inside', () => {
    const stats = parseServerStats(SEED002, 'application/json');
    expect(stats.format).toBe('json');
    expect(stats.figures.map((f) => [f.name, f.value, f.kind])).toEqual([
      ['active_admin_connections', 4, 'untyped'],
      ['active_customer_connections', 3, 'untyped'],
      ['total_connections', 7, 'untyped'],
      ['admins.length', 4, 'gauge'],
      ['customers.length', 3, 'gauge'],
    ]);
  });

  it('lists the leaves of short arrays of objects', () => {
    const stats = parseServerStats('{"workers":[{"pid":1,"active":3},{"pid":2,"active":4}],"odd key":{"n":1}}', undefined);
    expect(stats.figures.map((f) => f.name)).toEqual(['workers.length', 'workers[0].pid', 'workers[0].active', 'workers[1].pid', 'workers[1].active', '["odd key"].n']);
  });

  it('selects paths: keys, indexes, quoted keys, .length, arrays as lengths, booleans, numeric strings', () => {
    const json = { a: { b: [{ c: 5 }] }, admins: [[1, 2]], 'x.y': { z: '12' }, up: true };
    expect(selectJsonPath(json, 'a.b[0].c')).toBe(5);
    expect(selectJsonPath(json, '$.a.b[0].c')).toBe(5);
    expect(selectJsonPath(json, 'admins.length')).toBe(1);
    expect(selectJsonPath(json, 'admins')).toBe(1);
    expect(selectJsonPath(json, 'admins[0][1]')).toBe(2);
    expect(selectJsonPath(json, '["x.y"].z')).toBe(12);
    expect(selectJsonPath(json, 'up')).toBe(1);
    expect(selectJsonPath(json, 'a.missing')).toBeUndefined();
    expect(selectJsonPath(json, 'a.b[3].c')).toBeUndefined();
    expect(() => parseJsonPath('a[')).toThrow(UsageError);
    expect(() => parseJsonPath('a.')).toThrow(/ends with a dot/);
  });

  it('finds users holding more than one stream (seed 001 duplicate connections)', () => {
    const stats = parseServerStats(SEED002, 'application/json');
    expect(findDuplicateStreams(stats)).toEqual([
      { list: 'admins', entry: '[1,7]', streams: 2 },
      { list: 'customers', entry: '501', streams: 2 },
    ]);
  });

  it('does not call repeated measurements duplicates, and reads object entries by identity fields', () => {
    const stats = parseServerStats('{"buckets":[0,0,3],"streams":[{"user_id":4,"opened":1},{"user_id":4,"opened":2},{"user_id":5,"opened":3}]}', undefined);
    expect(findDuplicateStreams(stats)).toEqual([{ list: 'streams', entry: 'user_id=4', streams: 2 }]);
  });

  it('rejects a body that is not JSON when JSON was announced', () => {
    expect(() => parseServerStats('<html>', 'application/json')).toThrow(/stats JSON: not valid JSON/);
  });
});

describe('status pages', () => {
  it('reads nginx stub_status: the header line names the numbers below it', () => {
    expect(parseStatusPage(NGINX).map((f) => [f.name, f.value, f.kind])).toEqual([
      ['Active connections', 291, 'untyped'],
      ['accepts', 16630948, 'counter'],
      ['handled', 16630948, 'counter'],
      ['requests', 31070465, 'counter'],
      ['Reading', 6, 'untyped'],
      ['Writing', 179, 'untyped'],
      ['Waiting', 106, 'untyped'],
    ]);
  });

  it('reads generic name: value lines and skips non-numeric ones', () => {
    const text = 'Total Accesses: 120\nBusyWorkers: 3\nScoreboard: __W_\nuptime: 12.5\n';
    expect(parseStatusPage(text).map((f) => [f.name, f.value, f.kind])).toEqual([
      ['Total Accesses', 120, 'counter'],
      ['BusyWorkers', 3, 'untyped'],
      ['uptime', 12.5, 'untyped'],
    ]);
  });
});

describe('format detection', () => {
  it.each([
    [SEED000, 'text/plain; version=0.0.4; charset=utf-8', 'prometheus'],
    [SEED000, undefined, 'prometheus'],
    ['a 1\nb{x="y"} 2\n', 'text/plain', 'prometheus'],
    [SEED002, 'application/json; charset=utf-8', 'json'],
    [SEED002, 'text/plain', 'json'],
    [NGINX, 'text/plain', 'status-page'],
    ['connections: 5\n', 'text/plain', 'status-page'],
    ['<html><body>hello</body></html>', 'text/html', undefined],
  ])('detects %#', (text, contentType, format) => {
    expect(detectStatsFormat(text, contentType)).toBe(format);
  });

  it('says what it could not read, with a --format hint', () => {
    try {
      parseServerStats('<html><body>hello</body></html>', 'text/html');
      expect.fail('should throw');
    } catch (error) {
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).message).toMatch(/cannot tell the stats format \(Content-Type 'text\/html', body starts "<html><body>hello/);
      expect((error as ProtocolError).hint).toMatch(/--format/);
    }
  });

  it('obeys a forced format', () => {
    expect(parseServerStats('connections: 5\n', 'text/plain', 'prometheus').figures[0]).toMatchObject({ name: 'connections:', value: 5 });
  });
});

describe('selectFigure', () => {
  const prom = parseServerStats(SEED000, 'text/plain; version=0.0.4');

  it('sums every series of a name, or the series matching labels', () => {
    expect(selectFigure(prom, 'sse_connections_active')).toBe(3);
    expect(selectFigure(prom, 'sse_connections_active{role="admin"}')).toBe(2);
    expect(selectFigure(prom, 'sse_connections_active{role!="admin"}')).toBe(1);
    expect(selectFigure(prom, 'sse_connections_active{role=~"adm.*|cust.*"}')).toBe(3);
    expect(selectFigure(prom, 'admin_events_emitted_total{event_type="order.created"}')).toBe(7);
    expect(selectFigure(prom, 'sse_connection_duration_seconds_count')).toBe(12);
  });

  it('gives 0 for a declared family with no (matching) series, undefined for an unknown name', () => {
    expect(selectFigure(prom, 'sse_events_dropped_total')).toBe(0);
    expect(selectFigure(prom, 'sse_connections_active{role="store"}')).toBe(0);
    expect(selectFigure(prom, 'no_such_metric')).toBeUndefined();
  });

  it('estimates histogram quantiles with :pNN, over matching series', () => {
    expect(selectFigure(prom, 'sse_connection_duration_seconds{role="admin"}:p50')).toBeCloseTo(1 + 4 * (3 / 4));
    // Both roles: 12 observations, rank 6 → (1, 5] holds 3..7 (2+1 below 1 s... cumulative 3 at 1, 8 at 5).
    expect(selectFigure(prom, 'sse_connection_duration_seconds:p50')).toBeCloseTo(1 + 4 * ((6 - 3) / 5));
    expect(selectFigure(prom, 'sse_connection_duration_seconds{role="nobody"}:p99')).toBeUndefined();
  });

  it('rejects a malformed selector with a UsageError', () => {
    expect(() => selectFigure(prom, 'a{role=admin}')).toThrow(UsageError);
    expect(() => selectFigure(prom, '{x="y"}')).toThrow(/expected a metric name/);
  });

  it('selects JSON paths and status-page keys', () => {
    const json = parseServerStats(SEED002, 'application/json');
    expect(selectFigure(json, 'total_connections')).toBe(7);
    expect(selectFigure(json, 'admins.length')).toBe(4);
    expect(selectFigure(json, 'admins')).toBe(4);
    const page = parseServerStats(NGINX, 'text/plain');
    expect(selectFigure(page, 'Active connections')).toBe(291);
    expect(selectFigure(page, 'active  CONNECTIONS')).toBe(291);
    expect(selectFigure(page, 'requests')).toBe(31070465);
    expect(selectFigure(page, 'nope')).toBeUndefined();
  });
});
