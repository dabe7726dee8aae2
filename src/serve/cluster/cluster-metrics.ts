/**
 * `/metrics` for the whole of a `serve --workers` server: every worker's series (prom-client's
 * JSON form) in one Prometheus text exposition, each series labelled `worker="N"`, one `# HELP` /
 * `# TYPE` per family. Summing a family over its series gives the server's figure, which is what
 * ssekit's selectors do (`sse_connections_active` is the sum of all its series), so bench's leak
 * check reads the whole server from whichever worker answers. `sse_worker_up` says which workers
 * answered in time (0: the figures lack that worker).
 */
import type { PeerAnswer } from './messages.js';

/** A metric as prom-client's `getMetricsAsJSON` gives it. */
export interface MetricJson {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  readonly values: ReadonlyArray<{ readonly value: number; readonly labels: Readonly<Record<string, string | number | undefined>>; readonly metricName?: string }>;
}

interface Family {
  readonly help: string;
  readonly type: string;
  readonly lines: string[];
}

/** Prometheus text of every worker's metrics (worker order), plus `sse_worker_up`. */
export function renderWorkerMetrics(answers: readonly PeerAnswer[]): string {
  const families = new Map<string, Family>();
  const sorted = [...answers].sort((a, b) => a.worker - b.worker);
  for (const answer of sorted) {
    if (answer.isMissing === true || !Array.isArray(answer.value)) continue;
    for (const metric of answer.value as MetricJson[]) {
      let family = families.get(metric.name);
      if (family === undefined) {
        family = { help: metric.help, type: metric.type, lines: [] };
        families.set(metric.name, family);
      }
      for (const sample of metric.values) family.lines.push(`${sample.metricName ?? metric.name}${labelText({ ...sample.labels, worker: answer.worker })} ${formatValue(sample.value)}`);
    }
  }
  const up: Family = { help: 'Workers whose figures are in this answer (0: it did not answer in time)', type: 'gauge', lines: [] };
  for (const answer of sorted) up.lines.push(`sse_worker_up${labelText({ worker: answer.worker })} ${answer.isMissing === true ? 0 : 1}`);
  families.set('sse_worker_up', up);
  let text = '';
  for (const [name, family] of families) text += `# HELP ${name} ${escapeHelp(family.help)}\n# TYPE ${name} ${family.type}\n${family.lines.map((line) => `${line}\n`).join('')}`;
  return text;
}

function labelText(labels: Readonly<Record<string, string | number | undefined>>): string {
  const parts = Object.entries(labels)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => `${name}="${escapeLabel(typeof value === 'number' ? formatValue(value) : value)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Prometheus text format: label values escape backslash, double quote and line feed. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return Number.isNaN(value) ? 'NaN' : String(value);
}
