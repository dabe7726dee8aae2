/**
 * The run's totals as a table: latency percentiles, connect times, completeness, reconnects,
 * errors, leaks and ssekit's own cost. Each value cell names the JSON path of the figure it
 * shows (`data-path="latency.summary.p99Ms"`), so a test can check every number on the page
 * against the result file.
 */
import { readJsonPath } from '../../core/json-path.js';
import type { BenchResult } from '../../metrics/bench-result.js';
import type { PublishResult } from '../../metrics/publish-result.js';
import { finiteOrNull } from './chart-spec.js';
import { textHtml } from './escape-html.js';
import { renderTable, type Cell } from './html-table.js';

/** A figure: its label, its path in the result, its unit. */
type Figure = readonly [label: string, path: string, unit: 'ms' | '' | 'bytes'];

const PERCENTILES = [['p50', 'p50Ms'], ['p90', 'p90Ms'], ['p95', 'p95Ms'], ['p99', 'p99Ms'], ['p99.9', 'p999Ms'], ['max', 'maxMs'], ['mean', 'meanMs']] as const;

function latencyFigures(label: string, path: string, stats: readonly (readonly [string, string])[] = PERCENTILES): Figure[] {
  return [...stats.map(([name, key]): Figure => [`${label} ${name}`, `${path}.summary.${key}`, 'ms']), [`${label} samples`, `${path}.summary.count`, '']];
}

const P50_P99 = PERCENTILES.filter(([name]) => name === 'p50' || name === 'p99');

function benchFigures(r: BenchResult): Figure[] {
  const optional = (figures: readonly Figure[], isThere: boolean): Figure[] => (isThere ? [...figures] : []);
  const keyed = (label: string, path: string, map: Readonly<Record<string, number>>): Figure[] =>
    Object.keys(map).map((key): Figure => [`${label} ${key}`, /^[\w-]+$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`, '']);
  return [
    ...latencyFigures('delivery latency', 'latency'),
    ...latencyFigures('connect (headers)', 'connect.headers', P50_P99),
    ...latencyFigures('connect (first event)', 'connect.firstEvent', P50_P99),
    ['clients planned', 'clients.planned', ''],
    ['clients peak open', 'clients.peakOpen', ''],
    ['stream opens', 'clients.opens', ''],
    ...optional([['clients open on average', 'clients.meanOpen', '']], r.clients.meanOpen !== undefined),
    ['events published', 'events.published', ''],
    ['publish errors', 'events.publishErrors', ''],
    ['deliveries expected', 'events.expectedDeliveries', ''],
    ['delivered', 'events.delivered', ''],
    ['lost', 'events.lost', ''],
    ['duplicated', 'events.duplicated', ''],
    ['out of order', 'events.outOfOrder', ''],
    ['received after (re)connecting', 'events.recovered', ''],
    ['missed while reconnecting', 'events.missedDuringReconnect', ''],
    ...optional([['unsettled (interrupted)', 'events.unsettled', '']], r.events.unsettled !== undefined),
    ['events received', 'events.received', ''],
    ['bytes received', 'events.bytesReceived', 'bytes'],
    ['reconnects', 'reconnects.total', ''],
    ...keyed('reconnects:', 'reconnects.byReason', r.reconnects.byReason),
    ...keyed('HTTP status', 'statuses', r.statuses),
    ['errors', 'errors.total', ''],
    ['server count before', 'leak.baseline', ''],
    ['server count after', 'leak.final', ''],
    ['leaked streams', 'leak.leaked', ''],
    ['largest drift during the run', 'leak.maxDrift', ''],
    ['ssekit cpu (user)', 'self.cpuUserMs', 'ms'],
    ['ssekit cpu (system)', 'self.cpuSystemMs', 'ms'],
    ['ssekit max rss', 'self.maxRssBytes', 'bytes'],
    ...optional([['ssekit event-loop lag p99', 'self.eventLoopDelay.p99Ms', 'ms']], r.self.eventLoopDelay !== undefined),
  ];
}

function publishFigures(): Figure[] {
  return [
    ...latencyFigures('delivery latency', 'latency'),
    ...latencyFigures('producer call', 'callLatency', [...P50_P99, ['max', 'maxMs']]),
    ['watchers', 'watchers', ''],
    ['events sent', 'sent', ''],
    ['producer errors', 'producerErrors', ''],
    ['deliveries expected', 'expectedDeliveries', ''],
    ['delivered', 'delivered', ''],
    ['lost', 'lost', ''],
    ['duplicated', 'duplicated', ''],
    ['gate value', 'gateValueMs', 'ms'],
    ['target', 'targetMs', 'ms'],
  ];
}

/** The key figures section of one run. */
export function renderKeyFigures(result: BenchResult | PublishResult): string {
  const figures = result.kind === 'bench' ? benchFigures(result) : publishFigures();
  const rows = figures.map(([label, path, unit]): Cell[] => {
    const value = readJsonPath(result, path);
    const shown = typeof value === 'number' ? finiteOrNull(value) : null;
    return [textHtml(label), { html: shown === null ? 'n/a' : `${shown}${unit === '' ? '' : ` ${unit}`}`, path }];
  });
  return `<section id="figures">\n<h2>Figures</h2>\n${renderTable(['figure', 'value'], rows, { className: 'facts key-figures' })}\n</section>`;
}
