/**
 * What `ssekit stats` and its subcommands do once their flags are parsed (loaded only then):
 * a backend's figures (show), and result files (report, compare, merge).
 */
import { ExitCode, UsageError } from '../../core/errors.js';
import { parseDuration } from '../../core/duration.js';
import { redactUrl } from '../../core/redact.js';
import { toJson } from '../../reporters/json.js';
import { renderBenchReport } from '../../reporters/bench-text.js';
import { renderPublishReport } from '../../reporters/publish-text.js';
import { renderComparison, renderStatsSample, statsSampleData } from '../../reporters/stats-table.js';
import { readChartAssets } from '../../reporters/html/chart-assets.js';
import { renderHtmlComparison, renderHtmlReport } from '../../reporters/html/render-html.js';
import type { StatsFormat } from '../../server-stats/types.js';
import { parseExpectation } from '../../stats/expectations.js';
import { readResultFile, readResultFiles, requireBenchResult, writeResultFile } from '../../stats/result-file.js';
import { compareResults, parseRegressionLimit } from '../../stats/compare.js';
import { mergeResults } from '../../stats/merge.js';
import { runStats, type StatsOptions, type StatsSample } from '../../stats/run-stats.js';
import { withStreamAgent } from '../../transport/agent.js';
import { redactText } from '../../core/redact.js';
import type { CliContext } from '../context.js';
import type { AuthFlags } from '../flags/auth.js';
import { resolveToken } from '../flags/credentials.js';
import { writeOutputFiles } from '../flags/output.js';
import { parseCount, parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';

/** The raw flag values of `stats <url>`. */
export interface ShowFlags extends AuthFlags, HttpFlags {
  readonly format?: StatsFormat;
  readonly metric?: readonly string[];
  readonly expect?: readonly string[];
  readonly json?: boolean;
  readonly watch?: string;
  readonly count?: string;
}

// Moves the cursor home and clears the screen: the live view redraws in place on a terminal.
const CLEAR_SCREEN = '\u001b[H\u001b[2J';


/** `stats <url>`: a backend's figures, once or watched. */
export async function showStats(urlText: string, flags: ShowFlags, ctx: CliContext): Promise<number> {
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

/** `stats report`: a result file's report again (and, with `--html`, as a page). */
export async function report(file: string, flags: { json?: boolean; html?: string }, ctx: CliContext): Promise<number> {
  const { result } = await readResultFile(file);
  await writeHtml(flags.html, () => renderHtmlReport(result, readChartAssets()));
  if (flags.json === true) ctx.stdout.write(`${toJson(result)}\n`);
  else if (result.kind === 'bench') ctx.stdout.write(renderBenchReport(result, { useColor: ctx.useColor, width: ctx.stdout.columns ?? 100 }));
  else ctx.stdout.write(renderPublishReport(result, { useColor: ctx.useColor }));
  return ExitCode.ok;
}

/** `stats compare`: two results side by side, with the p99 regression gate. */
export async function compare(baseFile: string, nextFile: string, flags: { maxRegression?: string; json?: boolean; html?: string }, ctx: CliContext): Promise<number> {
  const maxRegression = flags.maxRegression === undefined ? undefined : parseRegressionLimit(flags.maxRegression);
  const [base, next] = await Promise.all([readResultFile(baseFile), readResultFile(nextFile)]);
  const comparison = compareResults(base.result, next.result, maxRegression === undefined ? {} : { maxRegression });
  await writeHtml(flags.html, () => renderHtmlComparison(base, next, comparison, readChartAssets()));
  if (flags.json === true) ctx.stdout.write(`${toJson({ schemaVersion: 1, kind: 'compare', baseFile, newFile: nextFile, ...comparison })}\n`);
  else ctx.stdout.write(renderComparison(comparison, { base: baseFile, next: nextFile }, { useColor: ctx.useColor }));
  return comparison.regression !== undefined && !comparison.regression.passed ? ExitCode.gateFailed : ExitCode.ok;
}

/** Writes the `--html` page when asked for; a file that cannot be written is a one-line usage error (exit 2). */
async function writeHtml(path: string | undefined, render: () => string): Promise<void> {
  if (path === undefined) return;
  // Rendered before writing: a rendering bug is reported as a bug, not as a file that could not be written.
  const html = render();
  const failures = await writeOutputFiles([[path, () => html]]);
  if (failures.length > 0) throw new UsageError(failures.join('; '));
}

/** `stats merge`: the shards of one run, merged exactly. */
export async function merge(files: readonly string[], flags: { out?: string; allowPartial?: boolean }, ctx: CliContext): Promise<number> {
  const inputs = (await readResultFiles(files)).map((named) => requireBenchResult(named, 'merge'));
  const { result, warnings, missingShards } = mergeResults(inputs);
  const isPartialRefused = missingShards.length > 0 && flags.allowPartial !== true;
  for (const warning of warnings) ctx.stderr.write(`${isPartialRefused ? 'ssekit' : 'warning'}: ${warning}${isPartialRefused ? ' (exit 99; --allow-partial merges it anyway)' : ''}\n`);
  const json = toJson(result);
  if (flags.out === undefined) {
    ctx.stdout.write(`${json}\n`);
  } else {
    await writeResultFile(flags.out, json);
    const l = result.latency.summary;
    const p99 = Number.isNaN(l.p99Ms) ? 'no samples' : `${l.p99Ms} ms`;
    ctx.stderr.write(`merged ${inputs.length} shard${inputs.length === 1 ? '' : 's'} of ${result.scenario.name} (run ${result.runId}) → ${flags.out}: ${l.count} latency samples, p99 ${p99}, lost ${result.events.lost}, ${result.endReason}\n`);
  }
  // The merged run is judged like a run: CI can gate on the merge (exit 99, as bench). A merge
  // missing shards judged a smaller run than planned: it fails unless asked for.
  if (isPartialRefused) return ExitCode.gateFailed;
  return result.endReason === 'passed' && result.thresholds.every((t) => t.passed) ? ExitCode.ok : ExitCode.gateFailed;
}
