/** Stream errors by class (`http_401`, `connect_refused`, …): bars, one per class, side by side for two runs. */
import { chartFromRuns } from './align-parts.js';
import { colorOf, labelFor, type ChartSpec, type ReportRun } from './chart-spec.js';

/** The errors-by-class chart of one run or an overlay of two. */
export function errorsChart(runs: readonly ReportRun[]): ChartSpec {
  const table = chartFromRuns(runs, (run, index) => {
    if (run.result.kind !== 'bench') return 'a publish result has no stream errors (its producer errors are under the outcomes)';
    const classes = Object.entries(run.result.errors.byClass).filter(([, count]) => count > 0);
    if (classes.length === 0) return 'no errors';
    return {
      columns: [{ label: labelFor(run, 'errors'), axis: 'left', style: 'bars', color: colorOf(index, 0) }],
      rows: classes.map(([name, count]) => ({ x: name, values: [count] })),
    };
  });
  return {
    id: 'errors',
    title: 'Errors by class',
    caption: 'Stream requests that failed over the whole run, by what failed.',
    xKind: 'category',
    xLabel: 'error class',
    yLabel: 'errors',
    ...table,
  };
}
