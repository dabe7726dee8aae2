/**
 * Setting several runs' figures side by side in one table, as an overlay needs (uPlot draws
 * every series against one shared x): the rows are the union of the runs' x values, and a run
 * with nothing at an x has an empty cell there. Two runs rarely share x values (other bucket
 * widths, publish events at their own due times), so no run's figures are resampled.
 */
import { noteFor, type ChartColumn, type ChartPart, type ChartRow, type ReportRun } from './chart-spec.js';

/** The runs' parts as one table: numeric x sorted ascending, category x in order of first appearance. */
export function alignParts(parts: readonly ChartPart[]): { readonly columns: readonly ChartColumn[]; readonly rows: readonly ChartRow[] } {
  const columns = parts.flatMap((part) => part.columns);
  if (parts.length === 1) return { columns, rows: (parts[0] as ChartPart).rows };
  const xs = unionOfX(parts);
  const offsets = parts.map((_, i) => parts.slice(0, i).reduce((sum, part) => sum + part.columns.length, 0));
  const rowsByPart = parts.map((part) => groupByX(part.rows));
  const rows: ChartRow[] = [];
  for (const x of xs) {
    // Equal x values within one run (two events due at the same millisecond) stay separate rows.
    const depth = Math.max(...rowsByPart.map((byX) => byX.get(x)?.length ?? 0));
    for (let level = 0; level < depth; level++) {
      const values = new Array<number | null>(columns.length).fill(null);
      parts.forEach((part, p) => {
        const row = rowsByPart[p]?.get(x)?.[level];
        if (row !== undefined) part.columns.forEach((_, c) => (values[(offsets[p] as number) + c] = row.values[c] ?? null));
      });
      rows.push({ x, values });
    }
  }
  return { columns, rows };
}

function unionOfX(parts: readonly ChartPart[]): (number | string)[] {
  const seen = new Set<number | string>();
  for (const part of parts) for (const row of part.rows) seen.add(row.x);
  const xs = [...seen];
  return xs.every((x) => typeof x === 'number') ? (xs as number[]).sort((a, b) => a - b) : xs;
}

function groupByX(rows: readonly ChartRow[]): Map<number | string, ChartRow[]> {
  const byX = new Map<number | string, ChartRow[]>();
  for (const row of rows) {
    const group = byX.get(row.x);
    if (group === undefined) byX.set(row.x, [row]);
    else group.push(row);
  }
  return byX;
}

/**
 * A chart's table from its runs: `build` gives a run's part, or why the run has none (a note
 * such as "not in this result (schema v1)"); the parts are aligned, the notes kept in run order.
 */
export function chartFromRuns(runs: readonly ReportRun[], build: (run: ReportRun, index: number) => ChartPart | string): { readonly columns: readonly ChartColumn[]; readonly rows: readonly ChartRow[]; readonly notes: readonly string[] } {
  const notes: string[] = [];
  const parts: ChartPart[] = [];
  runs.forEach((run, index) => {
    const part = build(run, index);
    if (typeof part === 'string') notes.push(noteFor(run, part));
    else parts.push(part);
  });
  return { ...alignParts(parts), notes };
}
