/**
 * What was run: scenario, redacted target, run id, shard, identity, clients, times, end reason,
 * the server figure and the tool (bench); producer, watchers and gate (publish). For two runs,
 * one column each. Then what the figures most likely mean (the result's diagnoses) or why a
 * publish run failed, in the result's own words, escaped.
 */
import { formatDuration } from '../../core/duration.js';
import type { BenchResult } from '../../metrics/bench-result.js';
import type { PublishResult } from '../../metrics/publish-result.js';
import type { ReportRun } from './chart-spec.js';
import { escapeHtml, textHtml } from './escape-html.js';
import { renderTable } from './html-table.js';

type Fact = readonly [label: string, html: string];

/** The metadata section of one run or two side by side. */
export function renderRunMetadata(runs: readonly ReportRun[]): string {
  const facts = runs.map((run) => new Map(run.result.kind === 'bench' ? benchFacts(run.result) : publishFacts(run.result)));
  const labels = [...new Set(facts.flatMap((map) => [...map.keys()]))];
  const head = runs.length === 1 ? [] : ['', ...runs.map((run) => escapeHtml(run.label))];
  const rows = labels.map((label) => [escapeHtml(label), ...facts.map((map) => map.get(label) ?? 'n/a')]);
  return `<section id="run">\n<h2>The run</h2>\n${renderTable(head, rows, { className: 'facts' })}\n</section>`;
}

function benchFacts(r: BenchResult): Fact[] {
  const shard = r.shard === null ? 'none (one process, or shards merged by ssekit stats merge)' : `${r.shard.index} of ${r.shard.count}`;
  const meanOpen = r.clients.meanOpen === null || r.clients.meanOpen === undefined ? '' : ` · ${round1(r.clients.meanOpen)} open on average`;
  const schedule = r.schedule === null || r.schedule === undefined ? 'no publishing' : `${r.schedule.events} events at ${r.schedule.ratePerSecond}/s${r.schedule.startAt === null ? '' : ` from ${textHtml(r.schedule.startAt)}`}`;
  return [
    ['kind', 'bench'],
    ['scenario', `${textHtml(r.scenario.name)} <small>(${textHtml(r.scenario.hash)})</small>`],
    ['target', textHtml(r.target)],
    ['run id', textHtml(r.runId)],
    ['shard', shard],
    ['identity', r.identity === undefined ? 'not recorded' : textHtml(r.identity.description)],
    ['clients', `${r.clients.planned} planned · ${r.clients.peakOpen} peak open · ${r.clients.opens} opens${meanOpen}`],
    ['publish schedule', schedule],
    ['server figure', r.leak.source === null ? 'none' : `${textHtml(r.leak.metric ?? '')} at ${textHtml(r.leak.source)}`],
    ...timeFacts(r),
    ['time series', r.series === undefined ? 'none (schema v1)' : `${r.series.open.length} buckets of ${formatDuration(r.series.bucketMs)}`],
    ['written by', `${textHtml(r.tool.name)} ${textHtml(r.tool.version)} · schema ${r.schemaVersion}`],
  ];
}

function publishFacts(r: PublishResult): Fact[] {
  return [
    ['kind', 'publish'],
    ['producer', textHtml(r.producer)],
    ['watchers', String(r.watchers)],
    ['gate', `${escapeHtml(r.gate)} ≤ ${formatDuration(r.targetMs)}`],
    ...timeFacts(r),
    ['written by', `${textHtml(r.tool.name)} ${textHtml(r.tool.version)} · schema ${r.schemaVersion}`],
  ];
}

function timeFacts(r: BenchResult | PublishResult): Fact[] {
  return [
    ['started', textHtml(r.startedAt)],
    ['ended', textHtml(r.endedAt)],
    ['duration', formatDuration(r.durationMs)],
    ['end', `<span class="verdict ${r.endReason}">${escapeHtml(r.endReason)}</span>`],
  ];
}

/** The diagnoses (bench) and failures (publish) of each run, as a list; nothing when there are none. */
export function renderFindings(runs: readonly ReportRun[]): string {
  const items = runs.flatMap((run) => {
    const lines = run.result.kind === 'bench' ? (run.result.diagnoses ?? []) : run.result.failures;
    return lines.map((line) => `<li>${run.label === '' ? '' : `${escapeHtml(run.label)}: `}${textHtml(line)}</li>`);
  });
  if (items.length === 0) return '';
  return `<section id="findings">\n<h2>What this means</h2>\n<ul class="diagnoses">\n${items.join('\n')}\n</ul>\n</section>`;
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
