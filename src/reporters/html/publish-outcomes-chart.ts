/**
 * What became of each published event: delivered to every watcher, to some (partly lost),
 * to none (lost), or refused by the producer. Bars of counts; every event's own line is in
 * the events table below the chart.
 */
import type { PublishedEvent } from '../../metrics/publish-result.js';
import { chartFromRuns } from './align-parts.js';
import { colorOf, labelFor, type ChartSpec, type ReportRun } from './chart-spec.js';

/** The outcomes an event can have, in the order the bars show them. */
export const OUTCOMES = ['delivered to every watcher', 'partly lost', 'lost', 'producer error'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One event's outcome. */
export function outcomeOf(event: PublishedEvent): Outcome {
  if (event.error !== undefined && event.error !== null) return 'producer error';
  if (event.delivered >= event.expected) return 'delivered to every watcher';
  return event.delivered === 0 ? 'lost' : 'partly lost';
}

/** The outcomes chart of one publish run or an overlay of two. */
export function publishOutcomesChart(runs: readonly ReportRun[]): ChartSpec {
  const table = chartFromRuns(runs, (run, index) => {
    if (run.result.kind !== 'publish') return 'a bench result has no per-event outcomes';
    if (run.result.events.length === 0) return 'no events were published';
    const counts = new Map<Outcome, number>(OUTCOMES.map((outcome) => [outcome, 0]));
    for (const event of run.result.events) counts.set(outcomeOf(event), (counts.get(outcomeOf(event)) ?? 0) + 1);
    return {
      columns: [{ label: labelFor(run, 'events'), axis: 'left', style: 'bars', color: colorOf(index, 0) }],
      rows: OUTCOMES.map((outcome) => ({ x: outcome, values: [counts.get(outcome) ?? 0] })),
    };
  });
  return {
    id: 'publish-outcomes',
    title: 'Per-event outcomes',
    caption: 'Each published event counted by what became of it within the timeout.',
    xKind: 'category',
    xLabel: 'outcome',
    yLabel: 'events',
    ...table,
  };
}
