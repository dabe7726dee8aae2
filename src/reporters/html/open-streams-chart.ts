/**
 * ssekit's open streams beside the server's own count: the picture of a leak. During the run
 * the two lines move together (the server's sits above by its baseline); once ssekit has closed
 * every stream a healthy server's count falls back within the grace, a leaking one's stays up.
 * The leak check's verdict is shown beside the chart and marked where its final count was read.
 */
import { formatDuration } from '../../core/duration.js';
import type { BenchResult, LeakReport, ServerSample } from '../../metrics/bench-result.js';
import type { TimeSeries } from '../../metrics/time-series.js';
import { chartFromRuns } from './align-parts.js';
import { colorOf, labelFor, noteFor, roundFigure, type Badge, type ChartColumn, type ChartPart, type ChartRow, type ChartSpec, type Marker, type ReportRun } from './chart-spec.js';
import { bucketSeconds, seriesEndMs } from './series-time.js';

/** The open-streams chart of one run or an overlay of two. */
export function openStreamsChart(runs: readonly ReportRun[]): ChartSpec {
  const benches = runs.flatMap((run) => (run.result.kind === 'bench' ? [{ run, result: run.result }] : []));
  return {
    id: 'open-streams',
    title: 'Open streams: ssekit’s against the server’s count',
    caption: 'Streams ssekit held open at the end of each bucket, and the server’s own figure read beside it, through the leak check after every stream was closed; the marked line is where the check read its final count.',
    xKind: 'time',
    xLabel: 'time (s)',
    yLabel: 'open streams',
    ...chartFromRuns(runs, (run, index) => (run.result.kind === 'bench' ? openStreamsPart(run, run.result, index) : 'a publish result has no open-stream counts')),
    badges: benches.map(({ run, result }) => badgeFor(run, leakBadge(result.leak))),
    markers: benches.flatMap(({ run, result }) => verdictMarker(run, result)),
  };
}

/** The verdict at the last x of the run's rows: the final count is the last one read. */
function verdictMarker(run: ReportRun, result: BenchResult): Marker[] {
  const rows = rowsOf(result);
  const last = rows.at(-1);
  if (last === undefined) return [];
  const words = { ok: 'no leak', leak: `${result.leak.leaked ?? '?'} leaked`, undercount: 'undercount', unknown: 'leak check unknown' } as const;
  return [{ x: last.x as number, label: labelFor(run, words[result.leak.verdict]), tone: leakBadge(result.leak).tone }];
}

/** The run's rows: its series (and any leak-check sample after it), or in schema v1 the leak check's samples alone. */
function rowsOf(result: BenchResult): ChartRow[] {
  const series = result.series;
  if (series === undefined) return rowsOfSamples(result.leak.samples);
  return [...rowsOfSeries(series), ...rowsOfSamples(result.leak.samples.filter((s) => s.tMs >= seriesEndMs(series)))];
}

function openStreamsPart(run: ReportRun, result: BenchResult, index: number): ChartPart | string {
  const rows = rowsOf(result);
  if (rows.length === 0) return 'no open-stream counts in this result';
  const hasServer = rows.some((row) => row.values[1] !== null);
  const columns: ChartColumn[] = [{ label: labelFor(run, 'ssekit open'), axis: 'left', style: 'line', color: colorOf(index, 0) }];
  if (hasServer) columns.push({ label: labelFor(run, 'server count'), axis: 'left', style: 'line', color: colorOf(index, 1), isDashed: true, spansGaps: true });
  return { columns, rows: hasServer ? rows : rows.map((row) => ({ x: row.x, values: [row.values[0] ?? null] })) };
}

/** The series' buckets: ssekit's open streams and the server's count last read in each. */
function rowsOfSeries(series: TimeSeries): ChartRow[] {
  return series.open.map((open, i) => ({ x: bucketSeconds(series, i), values: [open, series.server[i] ?? null] }));
}

/** Leak-check samples as rows: ssekit's open streams and the server's count at each. */
function rowsOfSamples(samples: readonly ServerSample[]): ChartRow[] {
  return samples.map((s) => ({ x: roundFigure(s.tMs / 1000), values: [s.client, s.server] }));
}

function badgeFor(run: ReportRun, badge: Badge): Badge {
  return { ...badge, text: noteFor(run, badge.text) };
}

/** The leak verdict in a few words, never a number beside `unknown` (as the text report). */
export function leakBadge(leak: LeakReport): Badge {
  const counts = `server count ${leak.baseline ?? '?'} before, ${leak.final ?? '?'} after closing every stream and ${formatDuration(leak.graceMs)} grace`;
  switch (leak.verdict) {
    case 'ok':
      return { tone: 'good', text: `leak check: none (${counts})` };
    case 'leak':
      return { tone: 'bad', text: `leak check: ${leak.leaked ?? '?'} leaked (${counts})` };
    case 'undercount':
      return { tone: 'bad', text: `leak check: undercount (the server counted up to ${leak.undercounted ?? '?'} fewer streams than ssekit held; ${counts})` };
    default:
      return { tone: 'neutral', text: `leak check: unknown (${leak.reason ?? (leak.source === null ? 'no server figure configured' : 'the server’s figure could not be read')})` };
  }
}
