/**
 * `ssekit stats`: a backend's own figures (`stats <url>`, the default subcommand `show`), and
 * ssekit's result files (`stats report|compare|merge`). The flags; `stats-action.ts` the rest.
 */
import { Option, type Command } from 'commander';
import { STATS_FORMATS } from '../../server-stats/types.js';
import type { RunCommand } from '../context.js';
import { addAuthFlags, authFlagsOf } from '../flags/auth.js';
import { addHttpFlags, collect } from '../flags/http.js';
import type { ShowFlags } from './stats-action.js';

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
  $ ssekit stats report result.json --html report.html
  $ ssekit stats compare base.json new.json --max-regression 10% --html compare.html
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
    .action((url: string, flags: ShowFlags, self: Command) => run(async (ctx) => (await import('./stats-action.js')).showStats(url, authFlagsOf(flags, self), ctx)));

  stats
    .command('report')
    .description('print the report of a bench or publish result file again')
    .argument('<result.json>', "a file written by 'ssekit bench --out' or 'ssekit publish --out'")
    .option('--json', 'print the validated result as JSON')
    .option('--html <file>', 'also write the report as one self-contained HTML page with its charts')
    .action((file: string, flags: { json?: boolean; html?: string }) => run(async (ctx) => (await import('./stats-action.js')).report(file, flags, ctx)));

  stats
    .command('compare')
    .description('compare two results (bench or publish): percentiles, loss, errors and leaks side by side with the change')
    .argument('<base.json>', 'the baseline run')
    .argument('<new.json>', 'the run to judge')
    .option('--max-regression <limit>', 'exit 99 when p99 latency got worse by more than this: a percentage of the base (10%) or a duration (50ms)')
    .option('--json', 'print the comparison as JSON')
    .option('--html <file>', 'also write the comparison as one self-contained HTML page, the two runs overlaid in each chart')
    .action((base: string, next: string, flags: { maxRegression?: string; json?: boolean; html?: string }) => run(async (ctx) => (await import('./stats-action.js')).compare(base, next, flags, ctx)));

  stats
    .command('merge')
    .description('merge the shard results of one sharded bench run exactly (histograms added, counts summed)')
    .argument('<shard.json...>', "the shards' result files, directories of them, or logs with one result per line (kubectl logs of bench --result-line)")
    .option('-o, --out <file>', 'write the merged result here (default: stdout)')
    .option('--allow-partial', 'merge even when shards of the run are missing (the merge otherwise fails with exit 99)')
    .action((files: string[], flags: { out?: string; allowPartial?: boolean }) => run(async (ctx) => (await import('./stats-action.js')).merge(files, flags, ctx)));
}
