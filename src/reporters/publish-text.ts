/**
 * `publish`'s human output: one line per settled event, coloured against the target, and a
 * summary with the verdict. Returns strings; the CLI writes them.
 */
import { Chalk } from 'chalk';
import { formatDuration } from '../core/duration.js';
import { redactText } from '../core/redact.js';
import type { PublishedEvent, PublishResult } from '../metrics/publish-result.js';

/** Formatting for one run. */
export interface PublishTextReporter {
  eventLine(event: PublishedEvent): string;
  summary(result: PublishResult): string;
}

/** Creates the reporter. */
export function createPublishTextReporter(options: { useColor: boolean; targetMs: number }): PublishTextReporter {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const ms = (value: number): string => (Number.isNaN(value) ? 'n/a' : formatDuration(value));
  return {
    eventLine(event) {
      const head = `#${event.seq} ${chalk.gray(redactText(event.id))}`;
      if (event.error !== undefined) return `${head} ${chalk.red(`producer error: ${redactText(event.error)}`)}`;
      const counts = `${event.delivered}/${event.expected}`;
      if (event.delivered < event.expected) {
        const latency = event.delivered > 0 ? ` (first ones in ${ms(event.latencyMs)})` : '';
        return `${head} ${chalk.red(`LOST ${event.expected - event.delivered} of ${event.expected}`)}${latency}`;
      }
      const color = event.latencyMs <= options.targetMs ? chalk.green : chalk.red;
      return `${head} delivered ${counts} in ${color(ms(event.latencyMs))} ${chalk.gray(`(producer call ${ms(event.callMs)})`)}`;
    },
    summary(result) {
      const l = result.latency.summary;
      const lines = [
        `sent ${result.sent} · delivered ${result.delivered}/${result.expectedDeliveries} to ${result.watchers} watcher${result.watchers === 1 ? '' : 's'} · lost ${result.lost} · duplicated ${result.duplicated} · producer errors ${result.producerErrors}`,
        `latency p50 ${ms(l.p50Ms)} · p90 ${ms(l.p90Ms)} · p99 ${ms(l.p99Ms)} · max ${ms(l.maxMs)}   producer call p50 ${ms(result.callLatency.summary.p50Ms)} · max ${ms(result.callLatency.summary.maxMs)}`,
      ];
      if (result.endReason === 'interrupted') lines.push(chalk.yellow('INTERRUPTED: partial results'));
      else if (result.failures.length === 0) lines.push(chalk.green(`PASS: ${result.gate} ${ms(result.gateValueMs ?? Number.NaN)} ≤ ${ms(result.targetMs)} target, nothing lost`));
      else lines.push(chalk.red(`FAIL: ${result.failures.map((f) => redactText(f)).join('; ')}`));
      return `${lines.join('\n')}\n`;
    },
  };
}

/** `stats report` of a publish result: every event's line, then the summary. */
export function renderPublishReport(result: PublishResult, options: { useColor: boolean }): string {
  const chalk = new Chalk({ level: options.useColor ? 1 : 0 });
  const reporter = createPublishTextReporter({ useColor: options.useColor, targetMs: result.targetMs });
  const title = chalk.bold(redactText(`ssekit publish · ${result.producer} · ${result.watchers} watcher${result.watchers === 1 ? '' : 's'} · ${formatDuration(result.durationMs)}`));
  return `${title}\n\n${result.events.map((event) => `${reporter.eventLine(event)}\n`).join('')}\n${reporter.summary(result)}`;
}
