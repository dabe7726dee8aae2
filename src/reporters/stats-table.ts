/**
 * `ssekit stats` output: the server-figures table (once or watched), its JSON form, and the
 * result-file views (compare, merge summary; `report` reuses the bench report). Returns strings; the CLI writes them.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { formatDuration } from '../core/duration.js';
import { redactText } from '../core/redact.js';
import type { ComparedFigure, ComparedRun, Comparison } from '../stats/compare.js';
import type { FigureRow, StatsSample } from '../stats/run-stats.js';

/** Formatting options. */
export interface StatsTableOptions {
  readonly useColor: boolean;
}

// Strips colour codes to measure what the user sees.
const ANSI_RE = /\u001b\[[0-9;]*m/g;
const visible = (text: string): number => [...text.replace(ANSI_RE, '')].length;

/** Lays out rows in columns (first row is the header); `right` lists right-aligned columns. */
export function layoutTable(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(cell))));
  return rows
    .map((row) =>
      row
        .map((cell, i) => {
          const pad = ' '.repeat((widths[i] ?? 0) - visible(cell));
          if (i === row.length - 1 && !right.has(i)) return cell;
          return right.has(i) ? `${pad}${cell}` : `${cell}${pad}`;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * A figure for people: exactly as the server gave it (JavaScript's shortest round-trip form, so
 * 0.1234567 stays 0.1234567); derived figures (rates, changes) to 6 significant digits; `—`
 * when absent.
 */
export function formatNumber(value: number | null | undefined, precision: 'exact' | 'derived' = 'exact'): string {
  if (value === undefined || value === null) return '—';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (Number.isInteger(value) || precision === 'exact') return String(value);
  return String(Number(value.toPrecision(6)));
}

function signed(value: number, chalk: ChalkInstance): string {
  if (value === 0) return chalk.gray('0');
  return value > 0 ? chalk.yellow(`+${formatNumber(value, 'derived')}`) : chalk.cyan(formatNumber(value, 'derived'));
}

function valueCell(row: FigureRow): string {
  if (row.histogram !== undefined) {
    const h = row.histogram;
    const q = (v: number): string => (Number.isNaN(v) ? '—' : formatNumber(v, 'derived'));
    return `${formatNumber(h.count)} obs · sum ${q(h.sum)} · p50 ${q(h.p50)} · p99 ${q(h.p99)}`;
  }
  return row.text ?? formatNumber(row.value);
}

/** The table of one sample; with `isWatch`, CHANGE and RATE/S columns. */
export function renderStatsSample(sample: StatsSample, display: string, options: StatsTableOptions & { readonly isWatch: boolean }): string {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const out: string[] = [];
  const head = `${redactText(display)} · ${sample.stats.format} · ${sample.at}`;
  out.push(chalk.bold(options.isWatch ? `${head} · sample ${sample.index}${sample.intervalSeconds === undefined ? '' : ` (+${sample.intervalSeconds.toFixed(1)} s)`}` : head));
  const header = options.isWatch ? ['FIGURE', 'KIND', 'VALUE', 'CHANGE', 'RATE/S'] : ['FIGURE', 'KIND', 'VALUE'];
  const rows: string[][] = [header.map((h) => chalk.gray(h))];
  for (const row of sample.rows) {
    const value = row.value === undefined ? chalk.red('absent') : valueCell(row);
    const cells = [redactText(row.label), chalk.gray(row.kind), value];
    if (options.isWatch) {
      cells.push(row.change === undefined ? '' : signed(row.change, chalk));
      cells.push(row.isReset ? chalk.yellow('reset') : row.ratePerSecond === undefined ? '' : formatNumber(row.ratePerSecond, 'derived'));
    }
    rows.push(cells);
  }
  if (sample.rows.length === 0) out.push(chalk.gray('(no figures)'));
  else out.push(layoutTable(rows));
  if (sample.stats.warning !== undefined) out.push('', chalk.yellow(`warning: ${sample.stats.warning}`));
  const lists = sample.stats.figures.filter((f) => f.name.endsWith('.length')).length;
  if (sample.duplicates.length > 0) {
    out.push('', chalk.red(`Duplicate streams: ${sample.duplicates.length} user${sample.duplicates.length === 1 ? '' : 's'} holding more than one (seed 001's duplicate-connection bug)`));
    out.push(layoutTable([[chalk.gray('LIST'), chalk.gray('USER'), chalk.gray('STREAMS')], ...sample.duplicates.map((d) => [d.list, redactText(d.entry), String(d.streams)])], new Set([2])));
  } else if (sample.stats.format === 'json' && lists > 0) {
    out.push('', chalk.green('Duplicate streams: none (no user holds more than one)'));
  }
  if (sample.expectations.length > 0) {
    out.push('');
    for (const e of sample.expectations) {
      out.push(e.passed ? `${chalk.green('PASS')}  ${e.expression}  ${chalk.gray(`(${formatNumber(e.value)})`)}` : `${chalk.red('FAIL')}  ${e.expression}  ${chalk.gray(`(${e.reason ?? 'failed'})`)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** One sample as JSON-ready data (`--json`; one line per sample when watching). */
export function statsSampleData(sample: StatsSample, display: string, options: { readonly hasSelectors: boolean }): Record<string, unknown> {
  return {
    schemaVersion: 1,
    kind: 'stats',
    url: redactText(display),
    format: sample.stats.format,
    at: sample.at,
    sample: sample.index,
    intervalSeconds: sample.intervalSeconds ?? null,
    rows: sample.rows.map(({ key: _key, ...row }) => row),
    ...(options.hasSelectors
      ? {}
      : {
          figures: sample.stats.figures,
          histograms: sample.stats.histograms.map((h) => ({ ...h, buckets: h.buckets.map((b) => ({ le: Number.isFinite(b.le) ? b.le : '+Inf', count: b.count })) })),
        }),
    duplicates: sample.duplicates,
    expectations: sample.expectations,
    ...(sample.stats.warning === undefined ? {} : { warning: sample.stats.warning }),
  };
}

const ms = (value: number | null | undefined): string => (value === null || value === undefined || Number.isNaN(value) ? '—' : formatDuration(value));


function figureValue(value: number | null, unit: ComparedFigure['unit']): string {
  if (value === null) return '—';
  if (unit === 'ms') return ms(value);
  if (unit === 'ratio') return `${(value * 100).toFixed(3)} %`;
  return formatNumber(value);
}

function describeRun(run: ComparedRun): string {
  const parts = [run.scenario, ...(run.runId === null ? [] : [`run ${run.runId}`]), run.endReason, ...(run.leak === null ? [] : [`leaks: ${run.leak === 'ok' ? 'none' : run.leak}`])];
  return redactText(parts.join(' · '));
}

/** `compare`: the two runs side by side with the change. */
export function renderComparison(comparison: Comparison, files: { readonly base: string; readonly next: string }, options: StatsTableOptions): string {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const out: string[] = [
    chalk.bold(`base ${files.base}: ${describeRun(comparison.base)}`),
    chalk.bold(`new  ${files.next}: ${describeRun(comparison.next)}`),
  ];
  if (!comparison.isSameScenario) out.push(chalk.yellow('note: the runs are of different scenarios (or scenario versions)'));
  out.push('');
  const rows: string[][] = [['FIGURE', 'BASE', 'NEW', 'CHANGE', '%'].map((h) => chalk.gray(h))];
  for (const f of comparison.figures) {
    let change = '';
    let pct = '';
    if (f.change !== null) {
      const isWorse = f.better === 'lower' ? f.change > 0 : f.better === 'higher' ? f.change < 0 : false;
      const isBetter = f.better === 'lower' ? f.change < 0 : f.better === 'higher' ? f.change > 0 : false;
      const paint = isWorse ? chalk.red : isBetter ? chalk.green : (t: string) => t;
      const sign = f.change > 0 ? '+' : f.change < 0 ? '-' : '';
      change = paint(f.change === 0 ? '0' : `${sign}${figureValue(Math.abs(f.change), f.unit)}`);
      pct = f.changePct === null ? '' : paint(!Number.isFinite(f.changePct) ? 'new' : `${f.changePct > 0 ? '+' : ''}${f.changePct.toFixed(1)} %`);
    }
    rows.push([f.figure, figureValue(f.base, f.unit), figureValue(f.next, f.unit), change, pct]);
  }
  out.push(layoutTable(rows, new Set([1, 2, 3, 4])));
  const r = comparison.regression;
  if (r !== undefined) {
    const limit = r.limit.kind === 'percent' ? `${r.limit.percent} %` : formatDuration(r.limit.ms);
    out.push('', r.passed ? chalk.green(`PASS: p99 ${ms(r.baseP99Ms)} → ${ms(r.nextP99Ms)}, within the ${limit} allowed regression`) : chalk.red(`FAIL: ${r.reason ?? 'p99 regressed'} (p99 ${ms(r.baseP99Ms)} → ${ms(r.nextP99Ms)})`));
  }
  return `${out.join('\n')}\n`;
}
