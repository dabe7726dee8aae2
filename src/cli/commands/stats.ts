/**
 * `ssekit stats`: a backend's own figures (`stats <url>`, the default subcommand `show`), and
 * ssekit's bench result files (`stats report|compare|merge`). Flags → options → engine →
 * reporter; exit 99 when an `--expect` or `--max-regression` gate fails.
 */
import { Option, type Command } from 'commander';
import { ExitCode, UsageError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { redactUrl } from '../../core/redact.js';
import { toJson } from '../../reporters/json.js';
import { renderBenchReport } from '../../reporters/bench-text.js';
import { renderComparison, renderStatsSample, statsSampleData } from '../../reporters/stats-table.js';
import { STATS_FORMATS, type StatsFormat } from '../../server-stats/types.js';
import { parseExpectation } from '../../stats/expectations.js';
import { readResultFile, writeResultFile } from '../../stats/result-file.js';
import { compareResults, mergeResults, parseRegressionLimit } from '../../stats/results.js';
import { runStats, type StatsOptions, type StatsSample } from '../../stats/run-stats.js';
import { withStreamAgent } from '../../transport/agent.js';
import { redactText } from '../../core/redact.js';
import type { CliContext, RunCommand } from '../context.js';
import { addAuthFlags, authFlagsOf, resolveToken, type AuthFlags } from '../flags/auth.js';
import { addHttpFlags, collect, parseCount, parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';

interface ShowFlags extends AuthFlags, HttpFlags {
  readonly format?: StatsFormat;
  readonly metric?: readonly string[];
  readonly expect?: readonly string[];
  readonly json?: boolean;
  readonly watch?: string;
  readonly count?: string;
}

// Moves the cursor home and clears the screen: the live view redraws in place on a terminal.
const CLEAR_SCREEN = '\u001b[H\u001b[2J';

/** Registers `stats` and its subcommands. */
export function registerStatsCommand(program: Command, run: RunCommand): void {
  const stats = program
    .command('stats')
    .description("a backend's own figures (Prometheus, JSON stats, status page), and bench result files (report, compare, merge)")
    .addHelpText(
      'after',
      `
Examples:
  $ ssekit stats http://127.0.0.1:8787/metrics
  $ ssekit stats http://127.0.0.1:8787/api/v1/notifications/stream/stats --token "$(ssekit token --role superadmin --sub 0)"
  $ ssekit stats http://127.0.0.1:8787/metrics --metric 'sse_connections_active{role="admin"}' --watch 2s
  $ ssekit stats http://127.0.0.1:8787/metrics --expect 'sse_connections_active==0'
  $ ssekit stats report result.json
  $ ssekit stats compare base.json new.json --max-regression 10%
  $ ssekit stats merge shard-*.json -o total.json`,
    );

  const show = stats
    .command('show', { isDefault: true })
    .description("(default) read a backend's figures: ssekit stats <url>")
    .argument('<url>', 'Prometheus /metrics, a JSON stats endpoint or a `name: value` status page');
  addHttpFlags(show);
  addAuthFlags(show);
  show
    .addOption(new Option('--format <format>', 'parse as this format instead of detecting it').choices(STATS_FORMATS))
    .option('-m, --metric <selector>', 'show only this figure (repeatable): name, name{label="v"}, hist:p99, a JSON path (a.b[0].c, admins.length) or a status-page key', collect)
    .option('--expect <expr>', "gate (repeatable), exit 99 when it fails: <selector><op><number>, ops < <= > >= == != (e.g. 'sse_connections_active==0')", collect)
    .option('--watch <interval>', 'read again every interval (e.g. 2s): change since the last sample, counters as rates, until Ctrl-C')
    .option('-c, --count <n>', 'with --watch: stop after this many samples')
    .option('--json', 'print JSON (one object per sample, one line each when watching)')
    .addHelpText(
      'after',
      `
Selectors: Prometheus 'name' sums every series, 'name{label="v",other!="w"}' the matching
ones (=~ and !~ take regexes); a family declared by # TYPE with no series yet counts 0;
'histogram:p99' (or 'histogram{role="admin"}:p50') estimates a quantile from the buckets.
JSON stats take a path; status pages a key ('Active connections').

Duplicate streams: when JSON stats list one entry per stream (seed 002's admins and
customers), users listed more than once are shown (seed 001's duplicate connections).`,
    )
    .action((url: string, flags: ShowFlags, self: Command) => run((ctx) => showStats(url, authFlagsOf(flags, self), ctx)));

  stats
    .command('report')
    .description('print the report of a bench result file again')
    .argument('<result.json>', "a file written by 'ssekit bench --out'")
    .option('--json', 'print the validated result as JSON')
    .action((file: string, flags: { json?: boolean }) => run((ctx) => report(file, flags, ctx)));

  stats
    .command('compare')
    .description('compare two bench results: percentiles, loss, errors and leaks side by side with the change')
    .argument('<base.json>', 'the baseline run')
    .argument('<new.json>', 'the run to judge')
    .option('--max-regression <limit>', 'exit 99 when p99 latency got worse by more than this: a percentage of the base (10%) or a duration (50ms)')
    .option('--json', 'print the comparison as JSON')
    .action((base: string, next: string, flags: { maxRegression?: string; json?: boolean }) => run((ctx) => compare(base, next, flags, ctx)));

  stats
    .command('merge')
    .description('merge the shard results of one sharded bench run exactly (histograms added, counts summed)')
    .argument('<shard.json...>', "the shards' result files")
    .option('-o, --out <file>', 'write the merged result here (default: stdout)')
    .action((files: string[], flags: { out?: string }) => run((ctx) => merge(files, flags, ctx)));
}

async function showStats(urlText: string, flags: ShowFlags, ctx: CliContext): Promise<number> {
  const url = parseHttpUrl(urlText, 'stats URL', 'http://127.0.0.1:8787/metrics');
  const http = await resolveHttpFlags(flags, ctx.env);
  const token = await resolveToken(flags);
  const expectations = (flags.expect ?? []).map(parseExpectation);
  const intervalMs = flags.watch === undefined ? undefined : parseDuration(flags.watch, '--watch');
  if (intervalMs !== undefined && intervalMs <= 0) throw new UsageError('--watch: the interval must be more than 0');
  if (flags.count !== undefined && intervalMs === undefined) throw new UsageError('--count goes with --watch');
  const count = flags.count === undefined ? undefined : parseCount(flags.count, '--count');
  const display = redactUrl(url, token?.queryName === undefined ? [] : [token.queryName]);
  return withStreamAgent(http, async (dispatcher) => {
    const options: StatsOptions = {
      url,
      display,
      headers: http.headers,
      token,
      dispatcher,
      format: flags.format,
      timeoutMs: http.connectTimeoutMs,
      selectors: flags.metric ?? [],
      expectations,
      intervalMs,
      count,
    };
    const isJson = flags.json === true;
    const isWatch = intervalMs !== undefined;
    const print = (sample: StatsSample): void => {
      if (isJson) {
        ctx.stdout.write(`${toJson(statsSampleData(sample, display, { hasSelectors: options.selectors.length > 0 }), isWatch ? 0 : 2)}\n`);
        return;
      }
      const table = renderStatsSample(sample, display, { useColor: ctx.useColor, isWatch });
      // A terminal gets a live view redrawn in place; a pipe or file gets every sample in turn.
      if (isWatch && ctx.isTTY) ctx.stdout.write(`${CLEAR_SCREEN}${table}${ctx.useColor ? '\u001b[2m' : ''}${options.count === undefined ? 'Ctrl-C to stop' : `sample ${sample.index} of ${options.count}`}${ctx.useColor ? '\u001b[22m' : ''}\n`);
      else ctx.stdout.write(`${isWatch && sample.index > 1 ? '\n' : ''}${table}`);
    };
    const result = await runStats(options, {
      signal: ctx.signal,
      onSample: print,
      onSampleError: (error, index) => void ctx.stderr.write(`ssekit: sample ${index} failed: ${redactText(error.message)}\n`),
    });
    if (result.endReason === 'interrupted') {
      // The last table is already on screen; say why we stopped, below it.
      if (!isJson) ctx.stderr.write(`interrupted after ${result.samples} sample${result.samples === 1 ? '' : 's'}\n`);
      return ExitCode.interrupted;
    }
    const failed = result.last?.expectations.some((e) => !e.passed) ?? false;
    return failed ? ExitCode.gateFailed : ExitCode.ok;
  });
}

async function report(file: string, flags: { json?: boolean }, ctx: CliContext): Promise<number> {
  const { result } = await readResultFile(file);
  ctx.stdout.write(flags.json === true ? `${toJson(result)}\n` : renderBenchReport(result, { useColor: ctx.useColor, width: ctx.stdout.columns ?? 100 }));
  return ExitCode.ok;
}

async function compare(baseFile: string, nextFile: string, flags: { maxRegression?: string; json?: boolean }, ctx: CliContext): Promise<number> {
  const maxRegression = flags.maxRegression === undefined ? undefined : parseRegressionLimit(flags.maxRegression);
  const [base, next] = await Promise.all([readResultFile(baseFile), readResultFile(nextFile)]);
  const comparison = compareResults(base.result, next.result, maxRegression === undefined ? {} : { maxRegression });
  if (flags.json === true) ctx.stdout.write(`${toJson({ schemaVersion: 1, kind: 'compare', baseFile, newFile: nextFile, ...comparison })}\n`);
  else ctx.stdout.write(renderComparison(comparison, { base: baseFile, next: nextFile }, { useColor: ctx.useColor }));
  return comparison.regression !== undefined && !comparison.regression.passed ? ExitCode.gateFailed : ExitCode.ok;
}

async function merge(files: readonly string[], flags: { out?: string }, ctx: CliContext): Promise<number> {
  const inputs = await Promise.all(files.map((file) => readResultFile(file)));
  const { result, warnings } = mergeResults(inputs);
  for (const warning of warnings) ctx.stderr.write(`warning: ${warning}\n`);
  const json = toJson(result);
  if (flags.out === undefined) {
    ctx.stdout.write(`${json}\n`);
  } else {
    await writeResultFile(flags.out, json);
    const l = result.latency.summary;
    const p99 = Number.isNaN(l.p99Ms) ? 'no samples' : `${l.p99Ms} ms`;
    ctx.stderr.write(`merged ${inputs.length} shard${inputs.length === 1 ? '' : 's'} of ${result.scenario.name} (run ${result.runId}) → ${flags.out}: ${l.count} latency samples, p99 ${p99}, lost ${result.events.lost}, ${result.endReason}\n`);
  }
  // The merged run is judged like a run: CI can gate on the merge (exit 99, as bench).
  return result.endReason === 'passed' && result.thresholds.every((t) => t.passed) ? ExitCode.ok : ExitCode.gateFailed;
}
