/** Every published event on its own row: when it was due, its latency, the producer call and its outcome. */
import type { PublishResult } from '../../metrics/publish-result.js';
import { finiteOrNull, roundFigure } from './chart-spec.js';
import { textHtml } from './escape-html.js';
import { renderTable } from './html-table.js';
import { outcomeOf } from './publish-outcomes-chart.js';

/** The events section of a publish run (in a `<details>`: a long run has thousands). */
export function renderPublishEvents(result: PublishResult, label = ''): string {
  const cell = (value: number | null): string => (value === null ? '' : String(value));
  const rows = result.events.map((event) => [
    String(event.seq),
    event.atMs === undefined ? '' : String(roundFigure(event.atMs / 1000)),
    textHtml(event.id),
    cell(finiteOrNull(event.latencyMs)),
    cell(finiteOrNull(event.callMs)),
    String(event.delivered),
    String(event.expected),
    textHtml(event.error === undefined || event.error === null ? outcomeOf(event) : `${outcomeOf(event)}: ${event.error}`),
  ]);
  const head = ['seq', 'due (s)', 'id', 'latency (ms)', 'producer call (ms)', 'delivered', 'expected', 'outcome'];
  const title = `${label === '' ? '' : `${label}: `}every event (${result.events.length})`;
  return `<section id="events${label === '' ? '' : `-${label}`}">\n<details><summary>${textHtml(title)}</summary>\n${renderTable(head, rows, { className: 'facts events' })}\n</details>\n</section>`;
}
