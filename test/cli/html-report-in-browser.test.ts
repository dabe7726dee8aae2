/**
 * The HTML report opened in a real browser (Debian's Chromium, headless): results written by
 * the real CLI against `ssekit serve` (a passed bench, a failed one with a leak and errors, one
 * interrupted by Ctrl-C, two shards merged, a publish run, two runs compared) and synthetic
 * ones (a schema v1 file, a 10-minute run). For every page: no console error (a CSP violation
 * is one), no request at all, every chart drawn (ink in its series' colours) with as many
 * points as the result has, and every number in the tables equal to the result JSON.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_JWT_SECRET } from '../../src/core/dev-jwt.js';
import { readJsonPath } from '../../src/core/json-path.js';
import type { BenchResult } from '../../src/metrics/bench-result.js';
import { decodeLatencyHistogram } from '../../src/metrics/histogram.js';
import type { PublishResult } from '../../src/metrics/publish-result.js';
import { percentilesToSample } from '../../src/reporters/html/latency-distribution-chart.js';
import { parseFaults } from '../../src/serve/faults.js';
import { startServer, type ServeHandle } from '../../src/serve/server.js';
import type { ResultFile } from '../../src/stats/result-file.js';
import { browserSkipReason, launchBrowser, type OpenedPage, type TestBrowser } from '../helpers/browser.js';
import { BIN, runCli, type CliRun } from '../helpers/run-cli.js';
import { makeTenMinuteResult } from '../fixtures/html/make-results.js';
import { makeResult } from '../fixtures/stats/make-result.js';

// admin-orders keeps one stream per admin: each run's clients get subjects of their own.
const admins = (run: string): string[] => ['--jwt-secret', DEV_JWT_SECRET, '--claims', `{"role":"admin","sub":"${run}-{{vu}}"}`];
const BODY = '{"pickup_address":"{{nonce}}","delivery_address":"B","boxes_count":1}';
// The verdicts these runs test must not hang on how busy the test machine is.
const CALM = ['--threshold', 'p99<20s', '--threshold', 'loss==0', '--threshold', 'lag.p99<20s'];

/** One chart section as the browser shows it. */
interface PageChart {
  readonly id: string;
  readonly notes: readonly string[];
  readonly badges: readonly string[];
  readonly drawnPoints: string | null;
  readonly drawnSeries: string | null;
  readonly head: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Canvas pixels in the colours of the chart's series: the chart was really drawn. */
  readonly ink: number;
}

/** What a report page shows. */
interface PageReport {
  readonly heading: string;
  readonly charts: readonly PageChart[];
  readonly figures: readonly { readonly path: string; readonly text: string }[];
  readonly thresholds: readonly (readonly string[])[];
  readonly run: readonly (readonly string[])[];
  readonly findings: readonly string[];
}

/** Reads a loaded report once its charts are drawn. */
async function readReport({ page }: OpenedPage): Promise<PageReport> {
  await page.waitForSelector('figure[data-chart]:not([data-drawn-points])', { state: 'detached', timeout: 10_000 });
  const charts = await page.$$eval('section.chart', (sections) =>
    sections.map((section) => {
      const texts = (root: typeof section, selector: string): string[] => Array.from(root.querySelectorAll(selector), (el) => ((el as typeof section).textContent ?? '').trim());
      const figure = section.querySelector('figure');
      const canvas = figure?.querySelector('canvas');
      let ink = 0;
      if (figure && canvas) {
        const colors = (JSON.parse(figure.getAttribute('data-chart') ?? '{}').columns as { color: string }[]).map((c) => [1, 3, 5].map((at) => Number.parseInt(c.color.slice(at, at + 2), 16)));
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data as Uint8ClampedArray;
        for (let i = 0; i < pixels.length; i += 4) {
          if ((pixels[i + 3] ?? 0) > 200 && colors.some(([r, g, b]) => Math.abs((pixels[i] ?? 0) - (r ?? 0)) < 24 && Math.abs((pixels[i + 1] ?? 0) - (g ?? 0)) < 24 && Math.abs((pixels[i + 2] ?? 0) - (b ?? 0)) < 24)) ink++;
        }
      }
      return {
        id: section.id,
        notes: texts(section, 'p.note'),
        badges: texts(section, 'p.badge'),
        drawnPoints: figure?.getAttribute('data-drawn-points') ?? null,
        drawnSeries: figure?.getAttribute('data-drawn-series') ?? null,
        head: figure === null ? [] : texts(figure, 'table.figures thead th'),
        rows: figure === null ? [] : Array.from(figure.querySelectorAll('table.figures tbody tr'), (tr) => texts(tr, 'th, td')),
        ink,
      };
    }),
  );
  const figures = await page.$$eval('#figures td[data-path]', (cells) => cells.map((cell) => ({ path: cell.getAttribute('data-path') ?? '', text: (cell.textContent ?? '').trim() })));
  const rowsOf = (selector: string): Promise<string[][]> => page.$$eval(`${selector} tbody tr`, (rows) => rows.map((row) => Array.from(row.querySelectorAll('th, td'), (cell) => ((cell as typeof row).textContent ?? '').trim())));
  return {
    heading: (await page.textContent('header')) ?? '',
    charts,
    figures,
    thresholds: await rowsOf('#thresholds table'),
    run: await rowsOf('#run table'),
    findings: await page.$$eval('#findings li', (items) => items.map((li) => (li.textContent ?? '').trim())),
  };
}

const round3 = (v: number): number => Math.round(v * 1000) / 1000;
const cell = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(round3(v)));

function chartOf(report: PageReport, id: string): PageChart {
  const chart = report.charts.find((c) => c.id === id);
  if (chart === undefined) throw new Error(`no chart ${id}; the page has ${report.charts.map((c) => c.id).join(', ')}`);
  return chart;
}

/** What every page must hold: drawn charts whose recorded points are their tables' rows and non-empty cells. */
function expectDrawn(opened: OpenedPage, report: PageReport): void {
  expect(opened.errors).toEqual([]);
  expect(opened.requests).toEqual([]);
  for (const chart of report.charts.filter((c) => c.drawnPoints !== null)) {
    expect(chart.drawnPoints, chart.id).toBe(String(chart.rows.length));
    const nonEmpty = chart.head.slice(1).map((_, c) => chart.rows.filter((row) => (row[c + 1] ?? '') !== '').length);
    expect(chart.drawnSeries, chart.id).toBe(nonEmpty.join(','));
    expect(chart.ink, `${chart.id} drew nothing in its series' colours`).toBeGreaterThan(5);
  }
}

/** The distribution chart against the decoded histogram: every sampled percentile's value. */
function expectDistribution(chart: PageChart, block: BenchResult['latency'], column = 1): void {
  const histogram = decodeLatencyHistogram(block.hdr);
  if (histogram.count === 0) return void expect(chart.notes.join(' ')).toContain('no latency samples');
  const rows = chart.rows.filter((row) => (row[column] ?? '') !== '');
  expect(rows.map((row) => Number(row[0]))).toEqual(percentilesToSample(histogram.count));
  for (const row of rows) expect(Number(row[column]), `p${row[0]}`).toBe(histogram.percentileMs(Number(row[0])));
}

/** A bench page against its result: series tables, distribution, errors, leak verdict, figures, thresholds, metadata. */
function expectBenchPage(report: PageReport, result: BenchResult): void {
  const series = result.series;
  if (series === undefined) throw new Error('a v2 result was expected');
  const seconds = (i: number): string => String(round3((i * series.bucketMs) / 1000));
  const perSecond = (n: number | undefined): string => cell((n ?? 0) / (series.bucketMs / 1000));
  const latency = chartOf(report, 'latency-over-time');
  expect(latency.head).toEqual(['time (s)', 'p50 (ms)', 'p99 (ms)', 'ssekit lag (ms)']);
  expect(latency.rows).toEqual(series.open.map((_, i) => [seconds(i), cell(series.latencyP50Ms[i]), cell(series.latencyP99Ms[i]), cell(series.lagMs[i])]));
  expect(chartOf(report, 'deliveries').rows).toEqual(series.open.map((_, i) => [seconds(i), perSecond(series.deliveries[i]), perSecond(series.reconnects[i]), perSecond(series.errors[i])]));
  const open = chartOf(report, 'open-streams');
  const hasServer = series.server.some((v) => v !== null);
  expect(open.rows.slice(0, series.open.length)).toEqual(series.open.map((n, i) => [seconds(i), String(n), ...(hasServer ? [cell(series.server[i])] : [])]));
  expect(open.badges.join(' ')).toContain(`leak check: ${{ ok: 'none', leak: `${result.leak.leaked} leaked`, undercount: 'undercount', unknown: 'unknown' }[result.leak.verdict]}`);
  expectDistribution(chartOf(report, 'latency-distribution'), result.latency);
  const classes = Object.entries(result.errors.byClass).filter(([, n]) => n > 0);
  if (classes.length === 0) expect(chartOf(report, 'errors').notes).toEqual(['no errors']);
  else expect(chartOf(report, 'errors').rows).toEqual(classes.map(([name, n]) => [name, String(n)]));
  expectFigures(report, result);
  expect(report.thresholds).toEqual(result.thresholds.map((t) => [t.expression, expect.any(String), t.passed ? '✓ pass' : '✗ fail', t.reason ?? '']));
  const run = new Map(report.run.map(([label, value]) => [label, value]));
  expect(run.get('scenario')).toContain(result.scenario.name);
  expect(run.get('target')).toBe(result.target);
  expect(run.get('shard')).toBe(result.shard === null ? 'none (one process, or shards merged by ssekit stats merge)' : `${result.shard.index} of ${result.shard.count}`);
  expect(run.get('identity')).toBe(result.identity?.description);
  expect(run.get('end')).toBe(result.endReason);
  expect(report.findings).toEqual(result.diagnoses ?? []);
}

/** Every key figure equals the result's figure at its path (to the 3 decimals the page shows). */
function expectFigures(report: PageReport, result: ResultFile): void {
  expect(report.figures.length).toBeGreaterThan(15);
  for (const { path, text } of report.figures) {
    const value = readJsonPath(result, path);
    if (typeof value === 'number' && Number.isFinite(value)) expect(Number.parseFloat(text), path).toBe(round3(value));
    else expect(text, path).toBe('n/a');
  }
}

/**
 * Runs bench until its first steady-state progress line, then sends Ctrl-C (SIGINT). Not
 * `startCli`: that registers its teardown per test, and this runs in `beforeAll`.
 */
async function runUntilSteadyThenInterrupt(args: readonly string[]): Promise<CliRun> {
  const child = execa('node', [BIN, ...args], { reject: false, env: { NO_COLOR: '1' }, stdin: 'ignore', timeout: 60_000 });
  let stderr = '';
  await new Promise<void>((resolve) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/^steady /m.test(stderr)) resolve();
    });
    void child.then(() => resolve());
  });
  child.kill('SIGINT');
  const result = await child;
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

const skip = browserSkipReason();

describe.skipIf(skip !== undefined)('HTML reports in Chromium', () => {
  let browser: TestBrowser;
  let dir: string;
  const servers: ServeHandle[] = [];
  const runs = new Map<string, CliRun>();
  const file = (name: string): string => join(dir, name);
  const readJson = async <T extends ResultFile>(name: string): Promise<T> => JSON.parse(await readFile(file(name), 'utf8')) as T;
  /** Opens `<name>.html`, checks what every page must hold, and reads it. */
  const openReport = async (name: string): Promise<PageReport> => {
    const opened = await browser.open(file(`${name}.html`));
    const report = await readReport(opened);
    expectDrawn(opened, report);
    return report;
  };

  /** Every CLI run the tests look at, at once (they take seconds each; the checks take milliseconds). */
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssekit-html-'));
    // A server per run: admin-orders sends every order to every admin stream, and a leak check
    // counts every stream on its server, so runs sharing one would see each other.
    const serve = (faults: string[] = []): Promise<ServeHandle> => startServer({ host: '127.0.0.1', port: 0, profiles: ['admin-orders'], faults: parseFaults(faults) });
    const [healthy, leaky, sharded, interrupting, publishing] = await Promise.all([serve(), serve(['leak']), serve(), serve(), serve()]);
    servers.push(healthy, leaky, sharded, interrupting, publishing);
    browser = await launchBrowser();
    const stats = (url: string): string[] => ['--server-stats', `${url}/metrics`, '--server-metric', 'sse_connections_active{role="admin"}', '--leak-grace', '1s'];
    const publish = (url: string, rate: string): string[] => ['--publish', `${url}/orders`, '--rate', rate, '--body', BODY];
    // A scenario whose second stream does not exist: half the clients fail (errors by class).
    await writeFile(file('errors.yaml'), `name: html-errors\nstreams: [/api/admin/events, /api/admin/nope]\nclients: { count: 6, rampUp: 0 }\nduration: 2\n`);
    const bench = (name: string, args: string[]): Promise<void> => runCli(['bench', ...args, '-o', file(`${name}.json`), '--html', file(`${name}.html`)], { timeoutMs: 60_000 }).then((run) => void runs.set(name, run));
    const startAt = String(Date.now() + 6000);
    const shard = (i: number): Promise<void> =>
      bench(`shard-${i}`, [`${sharded.url}/api/admin/events`, ...admins('shards'), '--clients', '4', '--ramp', '0s', '--duration', '2s', ...publish(sharded.url, '6'), '--shard', `${i}/2`, '--run-id', 'htmlshards', '--start-at', startAt, '--leak-grace', '500ms', ...CALM]);
    const interrupted = async (): Promise<void> => {
      const args = ['bench', `${interrupting.url}/api/admin/events`, ...admins('interrupted'), '--clients', '3', '--duration', '60s', ...publish(interrupting.url, '10'), '--leak-grace', '500ms', '-o', file('interrupted.json'), '--html', file('interrupted.html')];
      runs.set('interrupted', await runUntilSteadyThenInterrupt(args));
    };
    await Promise.all([
      bench('passed', [`${healthy.url}/api/admin/events`, ...admins('passed'), '--clients', '5', '--ramp', '0s', '--duration', '2s', ...publish(healthy.url, '10'), ...stats(healthy.url), ...CALM]),
      bench('failed', [file('errors.yaml'), '--target', leaky.url, ...admins('failed'), ...publish(leaky.url, '10'), ...stats(leaky.url), ...CALM, '--threshold', 'leaks==0']),
      shard(1),
      shard(2),
      interrupted(),
      runCli(['publish', `${publishing.url}/orders`, '--jwt-secret', DEV_JWT_SECRET, '--role', 'admin', '--sub', 'publisher', '--watch', `${publishing.url}/api/admin/events`, '--count', '12', '--rate', '20', '-o', file('publish.json')]).then((run) => void runs.set('publish', run)),
    ]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((server) => server.close()));
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('bench --html of a passed run: every chart drawn from the result’s series, every number the result’s', async () => {
    expect(runs.get('passed')?.exitCode, runs.get('passed')?.stderr).toBe(0);
    const result = await readJson<BenchResult>('passed.json');
    const report = await openReport('passed');
    expect(report.heading).toContain('PASSED');
    expect(report.charts.map((c) => c.id)).toEqual(['latency-over-time', 'latency-distribution', 'open-streams', 'deliveries', 'errors']);
    expectBenchPage(report, result);
    expect(result.leak.verdict).toBe('ok');
  });

  it('bench --html of a failed run marks the leak and counts the errors by class', async () => {
    expect(runs.get('failed')?.exitCode, runs.get('failed')?.stderr).toBe(99);
    const result = await readJson<BenchResult>('failed.json');
    expect(result.leak.verdict).toBe('leak');
    expect(result.errors.byClass['status-4xx']).toBeGreaterThan(0);
    const report = await openReport('failed');
    expect(report.heading).toContain('FAILED');
    expectBenchPage(report, result);
    expect(chartOf(report, 'errors').rows).toEqual([['status-4xx', String(result.errors.byClass['status-4xx'])]]);
    expect(report.thresholds.find((row) => row[0] === 'leaks==0')?.[2]).toBe('✗ fail');
  });

  it('bench --html is written on Ctrl-C too, the partial run drawn', async () => {
    expect(runs.get('interrupted')?.exitCode, runs.get('interrupted')?.stderr).toBe(130);
    const result = await readJson<BenchResult>('interrupted.json');
    const report = await openReport('interrupted');
    expect(report.heading).toContain('INTERRUPTED');
    expectBenchPage(report, result);
  });

  it('stats report --html of merged shards renders like one run', async () => {
    for (const i of [1, 2]) expect(runs.get(`shard-${i}`)?.exitCode, runs.get(`shard-${i}`)?.stderr).toBe(0);
    const merge = await runCli(['stats', 'merge', file('shard-1.json'), file('shard-2.json'), '-o', file('merged.json')]);
    expect(merge.exitCode, merge.stderr).toBe(0);
    const report = await runCli(['stats', 'report', file('merged.json'), '--html', file('merged.html')]);
    expect(report.exitCode, report.stderr).toBe(0);
    const result = await readJson<BenchResult>('merged.json');
    const [one, two] = await Promise.all([readJson<BenchResult>('shard-1.json'), readJson<BenchResult>('shard-2.json')]);
    expect(result.latency.summary.count).toBe(one.latency.summary.count + two.latency.summary.count);
    expect(result.clients.planned).toBe(4);
    const page = await openReport('merged');
    expectBenchPage(page, result);
  });

  it('stats report --html of a publish result: latency at each event’s due time, and the outcomes', async () => {
    // 99 when this machine is so busy that publish's own lag guard fails it: the page shows either.
    expect([0, 99], runs.get('publish')?.stderr).toContain(runs.get('publish')?.exitCode);
    const run = await runCli(['stats', 'report', file('publish.json'), '--html', file('publish.html')]);
    expect(run.exitCode, run.stderr).toBe(0);
    const result = await readJson<PublishResult>('publish.json');
    const report = await openReport('publish');
    expect(report.charts.map((c) => c.id)).toEqual(['latency-over-time', 'latency-distribution', 'publish-outcomes']);
    expect(chartOf(report, 'latency-over-time').rows).toEqual(result.events.map((e) => [cell((e.atMs ?? Number.NaN) / 1000), cell(e.latencyMs), cell(e.callMs)]));
    const complete = result.events.filter((e) => e.error === undefined && e.delivered >= e.expected).length;
    expect(result.events).toHaveLength(12);
    expect(chartOf(report, 'publish-outcomes').rows[0]).toEqual(['delivered to every watcher', String(complete)]);
    expect(chartOf(report, 'publish-outcomes').rows.reduce((sum, row) => sum + Number(row[1]), 0)).toBe(12);
    expectDistribution(chartOf(report, 'latency-distribution'), result.latency);
    expectFigures(report, result);
    const gatePassed = result.gateValueMs !== null && result.gateValueMs <= result.targetMs;
    expect(report.thresholds.map((row) => [row[0], row[2]])).toEqual([['p99<=500ms', gatePassed ? '✓ pass' : '✗ fail'], ['lost==0', result.lost === 0 ? '✓ pass' : '✗ fail'], ['producerErrors==0', '✓ pass']]);
    expect(report.findings).toEqual(result.failures);
  });

  it('stats compare --html overlays the two runs in every chart', async () => {
    const run = await runCli(['stats', 'compare', file('passed.json'), file('failed.json'), '--html', file('compare.html')]);
    expect(run.exitCode, run.stderr).toBe(0);
    const [base, next] = [await readJson<BenchResult>('passed.json'), await readJson<BenchResult>('failed.json')];
    const report = await openReport('compare');
    const latency = chartOf(report, 'latency-over-time');
    expect(latency.head).toEqual(['time (s)', 'base p50 (ms)', 'base p99 (ms)', 'base ssekit lag (ms)', 'new p50 (ms)', 'new p99 (ms)', 'new ssekit lag (ms)']);
    // Both runs have 1 s buckets from 0: row i is each run's bucket i, empty past a run's end.
    const padded = (values: readonly (number | null)[] = []): string[] => latency.rows.map((_, i) => (i < values.length ? cell(values[i]) : ''));
    expect(latency.rows.map((row) => row[2])).toEqual(padded(base.series?.latencyP99Ms));
    expect(latency.rows.map((row) => row[5])).toEqual(padded(next.series?.latencyP99Ms));
    const open = chartOf(report, 'open-streams');
    expect(open.badges).toEqual([expect.stringMatching(/^base: leak check: none/), expect.stringMatching(/^new: leak check: \d+ leaked/)]);
    expect(chartOf(report, 'errors').notes).toEqual(['base: no errors']);
    expect(chartOf(report, 'latency-distribution').head).toEqual(['percentile (%)', 'base latency (ms)', 'new latency (ms)']);
    expectDistribution(chartOf(report, 'latency-distribution'), next.latency, 2);
  });

  it('renders a schema v1 file (charts that need the series say so) and a 10-minute run', async () => {
    await writeFile(file('v1.json'), JSON.stringify(makeResult()));
    await writeFile(file('ten.json'), JSON.stringify(makeTenMinuteResult()));
    for (const name of ['v1', 'ten']) expect((await runCli(['stats', 'report', file(`${name}.json`), '--html', file(`${name}.html`)])).exitCode).toBe(0);
    const v1Report = await openReport('v1');
    expect(chartOf(v1Report, 'latency-over-time').notes).toEqual(['not in this result (schema v1)']);
    expect(chartOf(v1Report, 'deliveries').notes).toEqual(['not in this result (schema v1)']);
    expect(chartOf(v1Report, 'latency-over-time').drawnPoints).toBeNull();
    expectDistribution(chartOf(v1Report, 'latency-distribution'), makeResult().latency);

    const tenReport = await openReport('ten');
    expectBenchPage(tenReport, makeTenMinuteResult());
    expect(chartOf(tenReport, 'latency-over-time').drawnPoints).toBe('600');
  });

  it('bench --html checks its path before the run, like -o', async () => {
    const run = await runCli(['bench', 'http://127.0.0.1:9/api/admin/events', '--html', join(dir, 'missing', 'report.html')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/cannot write .*missing\/report\.html: its directory is missing/);
  });
});
