/**
 * Tables of the report: a header row, then rows whose first cell heads the row. End tags of
 * cells and rows are left out (HTML lets them be implied), which keeps a 10-minute run's
 * 600-row tables a third smaller with the same DOM.
 */
import { escapeHtml } from './escape-html.js';

/** A cell: HTML that is already escaped, or that and the JSON path of the result figure it shows (tests compare the two). */
export type Cell = string | { readonly html: string; readonly path?: string; readonly className?: string };

/** A table (no header row when `head` is empty); `className` styles it (`figures` marks the tables charts are drawn from). */
export function renderTable(head: readonly string[], rows: readonly (readonly Cell[])[], options: { readonly className?: string; readonly caption?: string } = {}): string {
  const caption = options.caption === undefined ? '' : `<caption>${options.caption}</caption>`;
  const thead = head.length === 0 ? '' : `<thead><tr>${head.map((h) => `<th scope="col">${h}`).join('')}</thead>`;
  const tbody = rows.map((row) => `<tr>${row.map((cell, i) => cellHtml(cell, i === 0 ? 'th' : 'td')).join('')}`).join('\n');
  return `<table${options.className === undefined ? '' : ` class="${options.className}"`}>${caption}${thead}<tbody>\n${tbody}\n</tbody></table>`;
}

function cellHtml(cell: Cell, tag: 'th' | 'td'): string {
  if (typeof cell === 'string') return `<${tag}>${cell}`;
  const path = cell.path === undefined ? '' : ` data-path="${escapeHtml(cell.path)}"`;
  const className = cell.className === undefined ? '' : ` class="${cell.className}"`;
  return `<${tag}${path}${className}>${cell.html}`;
}
