/** CI outputs for a bench result: JUnit XML (one test case per threshold) and a Markdown job summary. */
import type { BenchResult } from '../metrics/bench-result.js';
import { formatDuration } from '../core/duration.js';
import { formatThresholdValue } from './bench-text.js';

/** Text for an XML attribute or element (JUnit files). */
export function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}


/**
 * JUnit XML: a suite per run, a case per threshold (failures carry the value), and a `run`
 * case that carries an `<error>` when the run was interrupted — CI that reads only JUnit must
 * not record a pass for a run that never finished.
 */
export function renderJunit(result: BenchResult): string {
  const isInterrupted = result.endReason === 'interrupted';
  const failures = result.thresholds.filter((t) => !t.passed).length;
  const errors = isInterrupted ? 1 : 0;
  const tests = result.thresholds.length + 1;
  const classname = `ssekit.bench.${xml(result.scenario.name)}`;
  const diagnoses = (result.diagnoses ?? []).map(xml).join('\n');
  const runCase = isInterrupted
    ? `    <testcase classname="${classname}" name="run">\n      <error message="interrupted: partial results">interrupted before the run finished: the figures are partial${diagnoses === '' ? '' : `\n${diagnoses}`}</error>\n    </testcase>`
    : `    <testcase classname="${classname}" name="run"${diagnoses === '' ? '/>' : `>\n      <system-out>${diagnoses}</system-out>\n    </testcase>`}`;
  const cases = result.thresholds.map((t) => {
    const name = xml(t.expression);
    if (t.passed) return `    <testcase classname="${classname}" name="${name}"/>`;
    const message = xml(t.reason ?? `value ${formatThresholdValue(t)}`);
    return `    <testcase classname="${classname}" name="${name}">\n      <failure message="${message}">${message}</failure>\n    </testcase>`;
  });
  const seconds = (result.durationMs / 1000).toFixed(3);
  const counts = `tests="${tests}" failures="${failures}" errors="${errors}" time="${seconds}"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ${counts}>\n  <testsuite name="ssekit bench ${xml(result.scenario.name)}" ${counts} timestamp="${result.startedAt}">\n${[runCase, ...cases].join('\n')}\n  </testsuite>\n</testsuites>\n`;
}

/** A Markdown summary for CI job pages (GitHub's $GITHUB_STEP_SUMMARY). */
export function renderSummaryMarkdown(result: BenchResult): string {
  const l = result.latency.summary;
  const e = result.events;
  const verdict = result.endReason === 'passed' ? '✅ passed' : result.endReason === 'interrupted' ? '⚠️ interrupted' : '❌ failed';
  const ms = (v: number): string => (Number.isNaN(v) ? 'n/a' : formatDuration(v));
  return [
    `### ssekit bench · ${result.scenario.name}: ${verdict}`,
    '',
    '| figure | value |',
    '|---|---|',
    `| clients | ${result.clients.planned} planned, ${result.clients.peakOpen} peak open |`,
    `| delivery latency | p50 ${ms(l.p50Ms)} · p90 ${ms(l.p90Ms)} · p99 ${ms(l.p99Ms)} · max ${ms(l.maxMs)} |`,
    `| events | ${e.published} published, ${e.delivered}/${e.expectedDeliveries} delivered, ${e.lost} lost, ${e.duplicated} duplicated |`,
    `| reconnects | ${result.reconnects.total} |`,
    `| errors | ${result.errors.total} |`,
    `| leaks | ${result.leak.verdict === 'unknown' ? `unknown (${result.leak.reason ?? 'not measured'})` : `${result.leak.verdict === 'undercount' ? 'undercount: ' : ''}${result.leak.leaked} (server ${result.leak.baseline} → ${result.leak.final})`} |`,
    '',
    '| threshold | value | |',
    '|---|---|---|',
    ...result.thresholds.map((t) => `| \`${t.expression}\` | ${t.value === null ? (t.reason ?? 'n/a') : formatThresholdValue(t)} | ${t.passed ? '✅' : '❌'} |`),
    '',
    ...(result.diagnoses ?? []).map((d) => `> ${d}`),
    ...((result.diagnoses ?? []).length > 0 ? [''] : []),
  ].join('\n');
}
