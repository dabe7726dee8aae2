/**
 * The HTML report as text, without a browser: every result string is escaped (and redacted),
 * the page can fetch nothing (CSP, no URL outside the page's text), charts that need a series
 * say so for schema v1 files, a 10-minute run stays under 300 KiB, and the tables hold the
 * result's figures. The browser tests (test/cli/html-*) check the drawn page.
 */
import { describe, expect, it } from 'vitest';
import { readJsonPath } from '../../src/core/json-path.js';
import { decodeLatencyHistogram } from '../../src/metrics/histogram.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { compareResults } from '../../src/stats/compare.js';
import { mergeResults } from '../../src/stats/merge.js';
import { alignParts } from '../../src/reporters/html/align-parts.js';
import { readChartAssets } from '../../src/reporters/html/chart-assets.js';
import { drawCharts } from '../../src/reporters/html/draw-charts.js';
import { scriptText } from '../../src/reporters/html/escape-html.js';
import { percentilesToSample } from '../../src/reporters/html/latency-distribution-chart.js';
import { CONTENT_SECURITY_POLICY } from '../../src/reporters/html/page.js';
import { chartsFor, renderHtmlComparison, renderHtmlReport } from '../../src/reporters/html/render-html.js';
import { HOSTILE, makePublishResult, makeSeries, makeTenMinuteResult } from '../fixtures/html/make-results.js';
import { makeResult } from '../fixtures/stats/make-result.js';

const assets = readChartAssets();
const page = (result: Parameters<typeof renderHtmlReport>[0]): string => renderHtmlReport(result, assets);

/** A section of the page by id. */
function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  if (start === -1) throw new Error(`no section ${id}`);
  return html.slice(start, html.indexOf('</section>', start));
}

/** The body rows of a section's first table, as cell texts. */
function tableRows(html: string): string[][] {
  const body = html.slice(html.indexOf('<tbody>') + 7, html.indexOf('</tbody>'));
  return body
    .split('<tr>')
    .slice(1)
    .map((row) => row.split(/<t[hd][^>]*>/).slice(1).map((cell) => cell.trim()));
}

describe('html report: safety', () => {
  const hostile = makeTenMinuteResult({
    scenario: { name: HOSTILE.scenario, hash: 'sha256:x' },
    target: HOSTILE.target,
    errors: { total: 3, byClass: { [HOSTILE.errorClass]: 3 } },
    diagnoses: [HOSTILE.diagnosis],
  });
  const html = page(hostile);

  it('escapes every server- or user-supplied string, and redacts tokens', () => {
    expect(html).not.toContain(HOSTILE.scenario);
    expect(html).toContain('&lt;script&gt;alert(&quot;scenario&quot;)&lt;/script&gt;');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<iframe');
    expect(html).toContain('closed by &quot;&lt;/td&gt;&lt;/table&gt;&lt;iframe');
    expect(html).not.toContain('s3cr3t-t0ken');
    expect(html).toContain('token=***');
    // Our two scripts (uPlot and the drawing code) and nothing else.
    expect(html.match(/<script/g)).toHaveLength(2);
  });

  it('carries the strict CSP and no URL outside the page text: nothing can be fetched', () => {
    expect(CONTENT_SECURITY_POLICY).toBe("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:");
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`);
    for (const [, code] of html.matchAll(/<(?:script|style)>([\s\S]*?)<\/(?:script|style)>/g)) {
      expect(code).not.toMatch(/[a-z]+:\/\/|url\(|@import/i);
    }
    const tags = html.replace(/<(script|style)>[\s\S]*?<\/\1>/g, '').match(/<[^>]+>/g) ?? [];
    for (const tag of tags) expect(tag).not.toMatch(/\b(src|href|srcset|action|poster|formaction)=|:\/\//i);
    // The target appears, as text only.
    expect(html).toMatch(/<td>http:\/\/127\.0\.0\.1:8787\/\?token=\*\*\*&amp;x=&lt;b&gt;/);
  });

  it('refuses to inline a script that would end the <script> element early', () => {
    expect(() => scriptText('const s = "</script><b>";')).toThrow(/<\/script/);
    expect(scriptText(assets.script)).toBe(assets.script);
    expect(scriptText(drawCharts.toString())).toBe(drawCharts.toString());
    expect(assets.script.startsWith('/*! uPlot 1.')).toBe(true);
  });
});

describe('html report: figures', () => {
  it('keeps a 10-minute run (600 buckets) under 300 KiB', () => {
    const result = makeTenMinuteResult();
    expect(result.series?.open).toHaveLength(600);
    const bytes = Buffer.byteLength(page(result));
    console.info(`10-minute report: ${(bytes / 1024).toFixed(1)} KiB`);
    expect(bytes).toBeLessThan(300 * 1024);
    // Two such runs overlaid stay under it too.
    expect(Buffer.byteLength(renderHtmlComparison({ file: 'a.json', result }, { file: 'b.json', result: makeTenMinuteResult({ series: makeSeries(600, { seed: 9 }) }) }, compareResults(result, result), assets))).toBeLessThan(300 * 1024);
  });

  it('draws each chart from a table that holds the series, one row per bucket', () => {
    const result = makeTenMinuteResult();
    const series = result.series as NonNullable<BenchResult['series']>;
    const html = page(result);
    const latency = tableRows(section(html, 'latency-over-time'));
    expect(latency).toHaveLength(600);
    expect(latency[0]).toEqual(['0', '', '', String(series.lagMs[0])]);
    expect(latency[10]).toEqual(['10', String(series.latencyP50Ms[10]), String(series.latencyP99Ms[10]), String(series.lagMs[10])]);
    const deliveries = tableRows(section(html, 'deliveries'));
    expect(deliveries[100]).toEqual(['100', String(series.deliveries[100]), String(series.reconnects[100]), String(series.errors[100])]);
    // The open streams, then the leak check's samples after the series: the settle.
    const open = tableRows(section(html, 'open-streams'));
    expect(open).toHaveLength(600 + 5);
    expect(open[3]).toEqual(['3', String(series.open[3]), '']);
    expect(open.at(-1)).toEqual(['604', '0', '42']);
    expect(section(html, 'open-streams')).toContain('leak check: 40 leaked (server count 2 before, 42 after closing every stream and 5.0 s grace)');
    expect(tableRows(section(html, 'errors'))).toEqual([['http_503', '90'], ['connect_refused', '30'], ['timeout', '10']]);
  });

  it('samples the HDR distribution at exact percentiles up to what the sample count resolves', () => {
    const ps = percentilesToSample(100_000);
    expect(ps[0]).toBe(0);
    expect(ps.slice(0, 6)).toEqual([0, 12.94, 24.21, 34.02, 42.57, 50]);
    for (const named of [75, 90, 95, 99, 99.9, 99.99]) expect(ps).toContain(named);
    expect(ps).toContain(99.999);
    expect(percentilesToSample(99_999)).not.toContain(99.999);
    for (let i = 1; i < ps.length; i++) expect(ps[i] as number).toBeGreaterThan(ps[i - 1] as number);
    expect(100 / (100 - (ps.at(-1) as number))).toBeLessThanOrEqual(100_000);
    expect(percentilesToSample(1)).toEqual([0]);
    const result = makeTenMinuteResult();
    const histogram = decodeLatencyHistogram(result.latency.hdr);
    const rows = tableRows(section(page(result), 'latency-distribution'));
    expect(rows.map((row) => Number(row[0]))).toEqual(percentilesToSample(100_000));
    for (const [p, value] of rows) expect(Number(value)).toBe(histogram.percentileMs(Number(p)));
    expect(rows.find(([p]) => p === '99')?.[1]).toBe(String(result.latency.summary.p99Ms));
  });

  it('says "not in this result (schema v1)" where a v1 file has no series, and still draws the rest', () => {
    const html = page(makeResult());
    for (const id of ['latency-over-time', 'deliveries']) {
      expect(section(html, id)).toContain('not in this result (schema v1)');
      expect(section(html, id)).not.toContain('<figure');
    }
    expect(section(html, 'latency-distribution')).toContain('<figure');
    // v1 files carry the leak check's samples: the open-streams chart is drawn from them.
    expect(tableRows(section(html, 'open-streams'))).toEqual([['0', '0', '0']]);
    expect(section(html, 'errors')).toContain('no errors');
  });

  it('shows every key figure with the path of the result figure it is', () => {
    const result = makeTenMinuteResult();
    const html = section(page(result), 'figures');
    const cells = [...html.matchAll(/<td data-path="([^"]+)">([^<]*)/g)];
    expect(cells.length).toBeGreaterThan(30);
    for (const [, path, text] of cells) {
      const value = readJsonPath(result, (path as string).replace(/&quot;/g, '"'));
      if (typeof value === 'number' && Number.isFinite(value)) expect(Number.parseFloat(text as string), path).toBe(Math.round(value * 1000) / 1000);
      else expect(text, path).toBe('n/a');
    }
  });

  it('renders a merged shard result like any bench result', () => {
    const shard = (index: number): { file: string; result: BenchResult } => ({
      file: `shard-${index}.json`,
      result: makeTenMinuteResult({ shard: { index, count: 2 }, series: makeSeries(60, { clients: 50, seed: index }), schedule: { startAt: '2025-01-01T00:00:00.000Z', ratePerSecond: 1, events: 60 } }),
    });
    const { result } = mergeResults([shard(1), shard(2)]);
    const html = page(result);
    expect(tableRows(section(html, 'latency-over-time'))).toHaveLength(60);
    expect(section(html, 'run')).toContain('none (one process, or shards merged by ssekit stats merge)');
    expect(tableRows(section(html, 'open-streams'))[10]?.[1]).toBe(String(result.series?.open[10]));
  });
});

describe('html report: publish results', () => {
  const result = makePublishResult(20);
  const html = page(result);

  it('draws latency over time from each event’s due time, and counts the outcomes', () => {
    const rows = tableRows(section(html, 'latency-over-time'));
    expect(rows).toHaveLength(20);
    expect(rows[2]).toEqual(['0.2', String(result.events[2]?.latencyMs), String(result.events[2]?.callMs)]);
    expect(rows[3]?.[1]).toBe('');
    expect(tableRows(section(html, 'publish-outcomes'))).toEqual([['delivered to every watcher', '17'], ['partly lost', '1'], ['lost', '1'], ['producer error', '1']]);
    expect(chartsFor([{ label: '', result }]).map((c) => c.id)).toEqual(['latency-over-time', 'latency-distribution', 'publish-outcomes']);
  });

  it('lists every event with its outcome, the producer’s words escaped', () => {
    const rows = tableRows(section(html, 'events'));
    expect(rows).toHaveLength(20);
    expect(rows[3]?.[7]).toBe('producer error: HTTP 500: {&quot;detail&quot;:&quot;&lt;b&gt;boom&lt;/b&gt;&quot;}');
    expect(rows[7]?.[7]).toBe('partly lost');
  });

  it('says so when the events carry no due time (files written before atMs)', () => {
    const old = makePublishResult(5);
    const withoutAt = page({ ...old, events: old.events.map(({ atMs: _atMs, ...event }) => event) });
    expect(section(withoutAt, 'latency-over-time')).toContain('not in this result (written before publish events carried their due time)');
  });
});

describe('html report: overlay of two runs', () => {
  it('sets both runs’ figures side by side on one x, a run missing from a row left empty', () => {
    const aligned = alignParts([
      { columns: [{ label: 'base p99', axis: 'left', style: 'line', color: '#000' }], rows: [{ x: 0, values: [1] }, { x: 2, values: [3] }, { x: 2, values: [4] }] },
      { columns: [{ label: 'new p99', axis: 'left', style: 'line', color: '#111' }], rows: [{ x: 1, values: [5] }, { x: 2, values: [6] }] },
    ]);
    expect(aligned.rows).toEqual([
      { x: 0, values: [1, null] },
      { x: 1, values: [null, 5] },
      { x: 2, values: [3, 6] },
      { x: 2, values: [4, null] },
    ]);
  });

  it('overlays a bench and a publish run, each chart saying what one of them lacks', () => {
    const bench = makeTenMinuteResult();
    const publish = makePublishResult(10);
    const html = renderHtmlComparison({ file: 'bench.json', result: bench }, { file: 'publish.json', result: publish }, compareResults(bench, publish), assets);
    expect(section(html, 'open-streams')).toContain('new: a publish result has no open-stream counts');
    expect(section(html, 'publish-outcomes')).toContain('base: a bench result has no per-event outcomes');
    expect(section(html, 'latency-over-time')).toMatch(/<th scope="col">base p99 \(ms\)<th scope="col">base ssekit lag \(ms\)<th scope="col">new latency \(ms\)/);
    expect(section(html, 'comparison')).toContain('<th>latency p99<td>');
  });
});
