/**
 * The bench report for people: a table of the figures, the latency distribution drawn in the
 * terminal, the leak verdict and the thresholds. Also used by `ssekit stats report`. Returns
 * strings; callers write them.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { Shard } from '../bench/population.js';
import type { BenchPlan } from '../bench/scenario.js';
import type { BenchResult, LeakReport } from '../metrics/bench-result.js';
import { describeIdentity, identityPolicyOf } from '../transport/identity.js';
import type { HistogramBlock } from '../metrics/histogram.js';
import { formatDuration } from '../core/duration.js';
import { redactText } from '../core/redact.js';
import { decodeLatencyHistogram } from '../metrics/histogram.js';

/** The plan, printed before the first client starts (as k6 prints its header): what will run, and for how long at most. */
export function renderPlan(plan: BenchPlan, options: { readonly shard?: Shard | undefined; readonly startAtMs?: number | undefined; readonly runId?: string | undefined; readonly workers?: number | undefined }): string {
  const { shard } = options;
  const mine = shard === undefined ? plan.clients : Math.floor(plan.clients / shard.count) + (shard.index - 1 < plan.clients % shard.count ? 1 : 0);
  const churn = plan.churnRate > 0 ? `; churn ${(plan.churnRate * 100).toFixed(plan.churnRate < 0.01 ? 1 : 0)} %/s ${plan.churnMode}` : '';
  const rows: [string, string][] = [
    ['clients', `${plan.clients}${shard === undefined ? '' : ` (shard ${shard.index}/${shard.count}: ${mine})`}${plan.rampUpMs > 0 ? ` over a ${formatDuration(plan.rampUpMs)} ramp, then` : ' at once, then'} ${formatDuration(plan.durationMs)} steady${churn}`],
    ['identity', describeIdentity(identityPolicyOf(plan.auth), plan.clients, 'clients')],
  ];
  const p = plan.publish;
  if (p !== undefined) rows.push(['publish', `${p.producer} at ${p.rate}/s (${Math.floor((plan.durationMs / 1000) * p.rate)} events), lost after ${formatDuration(p.timeoutMs)}${p.ignoreEventTypes === undefined ? '' : `; ignoring ${p.ignoreEventTypes.join(', ')}`}`]);
  if (options.workers !== undefined) rows.push(['workers', `${options.workers} processes on this machine, shards 1/${options.workers} … ${options.workers}/${options.workers}, each its own loopback source address`]);
  if ((shard !== undefined || options.workers !== undefined) && options.startAtMs !== undefined) rows.push(['shared start', `${new Date(options.startAtMs).toISOString()}${options.runId === undefined ? '' : ` · run ${options.runId}`}`]);
  rows.push(['server figure', plan.serverStats === undefined ? 'none (no leak check: --server-stats, --server-metric)' : `${plan.serverStats.metric} at ${plan.serverStats.url}, ${formatDuration(plan.leakGraceMs)} grace after the run`]);
  rows.push(['thresholds', plan.thresholds.join(' · ')]);
  const boundMs = plan.rampUpMs + plan.connectTimeoutMs + plan.durationMs + (p?.timeoutMs ?? 0) + plan.leakGraceMs;
  rows.push(['ends by', `${formatDuration(boundMs)} at most, whatever the server does`]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return redactText(`plan: ${plan.name} · ${plan.target} · ${plan.streams.join(', ')}\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`);
}

/** Renders the final report. */
export function renderBenchReport(result: BenchResult, options: { useColor: boolean; width?: number }): string {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const ms = (v: number | null | undefined): string => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : formatDuration(v));
  const e = result.events;
  const lines: string[] = [];
  const title = `ssekit bench · ${result.scenario.name}${result.shard === null ? '' : ` · shard ${result.shard.index}/${result.shard.count}`} · ${result.target} · ${formatDuration(result.durationMs)}`;
  lines.push(chalk.bold(title), '');

  const seconds = Math.max(0.001, result.durationMs / 1000);
  const rate = (n: number): string => `${(n / seconds).toFixed(n / seconds < 10 ? 1 : 0)}/s`;
  const meanOpen = result.clients.meanOpen;
  const stayedOpen = meanOpen === null || meanOpen === undefined || result.clients.planned === 0 ? '' : ` · ${paint(chalk, meanOpen >= 0.95 * result.clients.planned, `${((100 * meanOpen) / result.clients.planned).toFixed(1)} % stayed open`)}`;
  const rows: [string, string][] = [
    ['clients', `${result.clients.planned} planned · ${result.clients.peakOpen} peak open · ${result.clients.opens} opens${stayedOpen}`],
    ...(result.identity === undefined ? [] : [['identity', result.identity.description] as [string, string]]),
    ['connect (headers)', percentiles(result.connect.headers, ms)],
    ['connect (first event)', percentiles(result.connect.firstEvent, ms)],
    ['delivery latency', percentiles(result.latency, ms)],
    ...(result.interEvent === undefined || result.interEvent.summary.count === 0 ? [] : [['gap between events', percentiles(result.interEvent, ms)] as [string, string]]),
    ['events', `${e.published} published · ${e.delivered}/${e.expectedDeliveries} delivered · ${e.received} received · ${formatBytes(e.bytesReceived)}`],
    ['completeness', `${paint(chalk, e.lost === 0, `${e.lost} lost`)} · ${e.duplicated} duplicated · ${e.outOfOrder} out of order · ${e.recovered} received after (re)connecting · ${e.missedDuringReconnect} missed while reconnecting${(e.unsettled ?? 0) > 0 ? ` · ${e.unsettled} unsettled (interrupted)` : ''}${e.publishErrors > 0 ? ` · ${chalk.red(`${e.publishErrors} publish errors`)}` : ''}`],
    ['rates', `${rate(e.delivered)} deliveries · ${rate(result.clients.opens)} connects · ${formatBytes(e.bytesReceived / seconds)}/s`],
    ['reconnects', `${result.reconnects.total}${formatMap(result.reconnects.byReason)}`],
    ['statuses', formatMap(result.statuses, '') || 'none'],
    ['errors', `${result.errors.total}${formatMap(result.errors.byClass)}`],
    ['bench process', `cpu ${formatDuration(result.self.cpuUserMs + result.self.cpuSystemMs)}${result.self.cpuShare === undefined ? '' : ` (${Math.round(result.self.cpuShare * 100)} % of a core)`} · event-loop lag ${lagText(result.self.eventLoopDelay)} · max rss ${formatBytes(result.self.maxRssBytes)} · sockets ${result.self.socketsAtStart ?? '?'} → ${result.self.socketsAtEnd ?? '?'}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, value] of rows) lines.push(`  ${chalk.gray(key.padEnd(width))}  ${value}`);

  if (result.latency.summary.count > 0) {
    lines.push('', chalk.bold('delivery latency distribution'));
    lines.push(...drawDistribution(result.latency, chalk, Math.min(60, (options.width ?? 80) - 30)));
  }

  lines.push('', chalk.bold('connection leaks'), ...leakLines(result.leak, chalk));
  if (result.self.socketsAtStart !== null && result.self.socketsAtEnd !== null && result.self.socketsAtEnd > result.self.socketsAtStart) {
    lines.push(`  ${chalk.yellow(`ssekit itself still holds ${result.self.socketsAtEnd - result.self.socketsAtStart} more sockets than at start`)}`);
  }

  const diagnoses = result.diagnoses ?? [];
  if (diagnoses.length > 0) lines.push('', chalk.bold('what this means'), ...diagnoses.map((d) => `  ${chalk.yellow('!')} ${d}`));

  lines.push('', chalk.bold('thresholds'));
  if (result.thresholds.length === 0) lines.push('  none');
  for (const t of result.thresholds) {
    const value = t.value === null ? (t.reason ?? 'no value') : formatThresholdValue(t);
    lines.push(`  ${t.passed ? chalk.green('✓') : chalk.red('✗')} ${t.expression.padEnd(18)} ${chalk.gray(value)}`);
  }
  const verdict = result.endReason === 'passed' ? chalk.green('PASSED') : result.endReason === 'interrupted' ? chalk.yellow('INTERRUPTED (partial results)') : chalk.red('FAILED');
  lines.push('', verdict, '');
  return redactText(lines.join('\n'));
}

function lagText(lag: BenchResult['self']['eventLoopDelay']): string {
  return lag === undefined ? 'not measured' : `p50 ${formatDuration(lag.p50Ms)} · p99 ${formatDuration(lag.p99Ms)} · max ${formatDuration(lag.maxMs)}`;
}

/** The leak verdict in words: never a number beside `unknown`. */
function leakLines(leak: LeakReport, chalk: ChalkInstance): string[] {
  const where = `${leak.metric ?? ''} at ${leak.source ?? ''}`;
  if (leak.verdict === 'unknown') return [`  ${chalk.yellow('unknown')}: ${leak.reason ?? (leak.source === null ? 'no server figure configured (--server-stats, --server-metric)' : `could not read ${where}`)}`];
  const lines: string[] = [];
  const counts = `server count ${leak.baseline} before, ${leak.final} after closing every stream and ${formatDuration(leak.graceMs)} grace (${where})`;
  if (leak.verdict === 'leak') lines.push(`  ${chalk.red(`${leak.leaked} leaked`)}: ${counts}`);
  else if (leak.verdict === 'undercount') lines.push(`  ${chalk.red('undercount')}: the server counted up to ${leak.undercounted} fewer streams than ssekit held while the fleet ran; ${counts}`);
  else lines.push(`  ${chalk.green('none')}: ${counts}`);
  if (leak.maxDrift !== null && leak.maxDrift > 0) lines.push(`  during the run the server counted up to ${leak.maxDrift} more streams than ssekit had open`);
  if (leak.verdict !== 'undercount' && leak.minDrift !== null && leak.minDrift !== undefined && leak.minDrift < 0) lines.push(`  during the run the server counted up to ${-leak.minDrift} fewer streams than ssekit had open`);
  return lines;
}

function percentiles(block: HistogramBlock, ms: (v: number) => string): string {
  const s = block.summary;
  if (s.count === 0) return 'no samples';
  return `p50 ${ms(s.p50Ms)} · p90 ${ms(s.p90Ms)} · p99 ${ms(s.p99Ms)} · max ${ms(s.maxMs)} (${s.count})`;
}

function paint(chalk: ChalkInstance, isGood: boolean, text: string): string {
  return isGood ? text : chalk.red(text);
}

function formatMap(map: Readonly<Record<string, number>>, prefix = ' · '): string {
  const entries = Object.entries(map).filter(([, v]) => v > 0);
  return entries.length === 0 ? '' : `${prefix}${entries.map(([k, v]) => `${k} ${v}`).join(', ')}`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** Bars per percentile band, drawn from the decoded histogram. */
export function drawDistribution(block: HistogramBlock, chalk: ChalkInstance, barWidth: number): string[] {
  const histogram = decodeLatencyHistogram(block.hdr);
  const marks = [0, 50, 75, 90, 95, 99, 99.9, 100];
  const bands: { label: string; fromMs: number; toMs: number; share: number }[] = [];
  for (let i = 1; i < marks.length; i++) {
    const lo = marks[i - 1] as number;
    const hi = marks[i] as number;
    bands.push({ label: `p${lo}–p${hi}`, fromMs: lo === 0 ? histogram.minMs : histogram.percentileMs(lo), toMs: histogram.percentileMs(hi), share: (hi - lo) / 100 });
  }
  const maxTo = Math.max(...bands.map((b) => b.toMs));
  return bands.map((b) => {
    const length = maxTo <= 0 ? 0 : Math.max(1, Math.round((b.toMs / maxTo) * barWidth));
    return `  ${b.label.padEnd(12)} ${chalk.cyan('█'.repeat(length))} ${formatDuration(b.toMs)}`;
  });
}

/** A threshold's value as its expression reads: a duration, a percentage (`errors<1%`), or a count. */
export function formatThresholdValue(t: { readonly expression: string; readonly metric: string; readonly value: number | null }): string {
  if (t.value === null) return 'n/a';
  if (t.metric.includes('.')) return formatDuration(t.value);
  if (t.expression.includes('%')) return `${(t.value * 100).toFixed(2)}%`;
  return String(t.value);
}
