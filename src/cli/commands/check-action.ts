/**
 * What `ssekit check` does once its flags are parsed: flags + contract → a validated plan →
 * `runChecks` (a line per check as it finishes) → JSON, JUnit and Markdown files → exit code
 * (0 all passed or skipped, 99 one failed, 130 interrupted).
 */
import { ExitCode, UsageError } from '../../core/errors.js';
import { parsePositiveDuration } from '../../core/duration.js';
import { buildCheckPlan, readContractFile } from '../../check/contract.js';
import type { CheckOverrides } from '../../check/plan.js';
import type { CheckRunResult } from '../../check/result.js';
import { runChecks } from '../../check/run-checks.js';
import { renderCheckJunit } from '../../reporters/check-junit.js';
import { renderCheckMarkdown } from '../../reporters/check-markdown.js';
import { createCheckTextReporter } from '../../reporters/check-text.js';
import { toJson } from '../../reporters/json.js';
import { formatDuration } from '../../core/duration.js';
import { withStreamAgent } from '../../transport/agent.js';
import type { CliContext } from '../context.js';
import type { AuthFlags } from '../flags/auth.js';
import { authPlanFromFlags } from '../flags/credentials.js';
import { checkOutputPaths, writeOutputFiles } from '../flags/output.js';
import { parseHttpUrl, resolveHttpFlags, type HttpFlags } from '../flags/http.js';
import { VERSION } from '../version.js';

/** The raw flag values. */
export interface CheckFlags extends AuthFlags, HttpFlags {
  readonly target?: string;
  readonly only?: readonly string[];
  readonly heartbeatInterval?: string;
  readonly heartbeatTolerance?: string;
  readonly heartbeatObserve?: string;
  readonly latencyTarget?: string;
  readonly inactivityTimeout?: string;
  readonly maxCheckTime: string;
  readonly json?: boolean;
  readonly junit?: string;
  readonly summaryMd?: string;
  readonly cites?: boolean;
}

/** Every override and the flag that sets it: a new override needs a flag decision here (the type says so). */
const OVERRIDE_FLAGS: { readonly [K in keyof Required<CheckOverrides>]: string } = {
  target: '--target',
  heartbeatIntervalMs: '--heartbeat-interval',
  heartbeatToleranceMs: '--heartbeat-tolerance',
  heartbeatObserveMs: '--heartbeat-observe',
  latencyTargetMs: '--latency-target',
  inactivityTimeoutMs: '--inactivity-timeout',
  only: '--only',
  auth: '--jwt-secret, --jwt-key, --token, --claims, --token-query',
  headers: '-H',
  maxCheckMs: '--max-check-time',
  connectTimeoutMs: '--connect-timeout',
};

/** Runs `check` with parsed flags; the exit code. */
export async function check(file: string, flags: CheckFlags, ctx: CliContext): Promise<number> {
  const http = await resolveHttpFlags(flags);
  const overrides = await overridesFrom(flags, http.headers);
  const plan = buildCheckPlan(await readContractFile(file), overrides, file);
  await checkOutputPaths([flags.junit, flags.summaryMd]);
  const isJson = flags.json === true;
  const reporter = createCheckTextReporter({ useColor: ctx.useColor, showCites: flags.cites === true });
  const result = await withStreamAgent(http, (dispatcher) =>
    runChecks(plan, {
      dispatcher,
      signal: ctx.signal,
      version: VERSION,
      onStart: (spec, plannedMs) => {
        // A long watch (a 30 s heartbeat is watched 91 s) should not look like a hang; one that is skipped says so itself.
        if (!isJson && plannedMs >= 10_000 && plannedMs <= plan.maxCheckMs) ctx.stderr.write(`checking ${spec.name} (up to ${formatDuration(plannedMs)})…\n`);
      },
      ...(isJson ? {} : { onResult: (r) => void ctx.stdout.write(`${reporter.checkLine(r)}\n`) }),
    }),
  );
  const failures = await writeReports(result, flags);
  ctx.stdout.write(isJson ? `${toJson(result)}\n` : `${reporter.summary(result)}\n`);
  if (failures.length > 0) throw new UsageError(failures.join('; '));
  if (result.endReason === 'interrupted') return ExitCode.interrupted;
  return result.endReason === 'passed' ? ExitCode.ok : ExitCode.gateFailed;
}

/** JUnit (replaced) and the Markdown summary (appended: GitHub's step summary is shared by the job's steps). */
function writeReports(result: CheckRunResult, flags: CheckFlags): Promise<string[]> {
  return writeOutputFiles([
    [flags.junit, () => renderCheckJunit(result)],
    [flags.summaryMd, () => renderCheckMarkdown(result), 'append'],
  ]);
}

/** The flags as overrides of the contract; every bad one reported at once. */
async function overridesFrom(flags: CheckFlags, headers: Readonly<Record<string, string>>): Promise<CheckOverrides> {
  if (flags.role !== undefined || flags.sub !== undefined) {
    throw new UsageError(`${flags.role !== undefined ? '--role' : '--sub'} does not apply to check: each check mints its tokens from the contract's identities, one fresh user each`, { hint: '--claims adds claims to every token (e.g. --claims \'{"salon_id":7}\')' });
  }
  const problems: string[] = [];
  const duration = (text: string | undefined, key: keyof CheckOverrides): number | undefined => {
    if (text === undefined) return undefined;
    try {
      return parsePositiveDuration(text, OVERRIDE_FLAGS[key]);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  };
  const overrides: CheckOverrides = {
    target: flags.target === undefined ? undefined : parseHttpUrl(flags.target, OVERRIDE_FLAGS.target, 'http://127.0.0.1:8787').href.replace(/\/$/, ''),
    heartbeatIntervalMs: duration(flags.heartbeatInterval, 'heartbeatIntervalMs'),
    heartbeatToleranceMs: duration(flags.heartbeatTolerance, 'heartbeatToleranceMs'),
    heartbeatObserveMs: duration(flags.heartbeatObserve, 'heartbeatObserveMs'),
    latencyTargetMs: duration(flags.latencyTarget, 'latencyTargetMs'),
    inactivityTimeoutMs: duration(flags.inactivityTimeout, 'inactivityTimeoutMs'),
    maxCheckMs: duration(flags.maxCheckTime, 'maxCheckMs'),
    connectTimeoutMs: duration(flags.connectTimeout, 'connectTimeoutMs'),
    only: flags.only,
    auth: await authPlanFromFlags(flags),
    headers,
  };
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return overrides;
}
