/**
 * Plain-text status pages: nginx `stub_status` and generic `name: value` lines (Apache
 * `mod_status?auto`, HAProxy-ish homegrown pages). nginx's page is
 *
 *     Active connections: 291
 *     server accepts handled requests
 *      16630948 16630948 31070465
 *     Reading: 6 Writing: 179 Waiting: 106
 *
 * where the header line names the numbers on the next line (three counters). Several pairs may
 * share a line (`Reading: 6 Writing: 179`). Non-numeric values (`Scoreboard: __W_`) are skipped.
 */
import type { FigureKind, ServerFigure } from './types.js';

const NUMBER = String.raw`[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?`;
// A key (anything up to a colon, starting at a non-space) then a number ending at a space or EOL.
const PAIR_RE = new RegExp(String.raw`([^:\s][^:]*?)\s*:\s*(${NUMBER})(?=\s|$)`, 'g');
const NUMBERS_LINE_RE = new RegExp(String.raw`^\s*${NUMBER}(?:\s+${NUMBER})*\s*$`);
const HEADER_RE = /^\s*[A-Za-z_][\w-]*(?:\s+[A-Za-z_][\w-]*)+\s*$/;

/** Parses a status page into figures (possibly none). */
export function parseStatusPage(text: string): ServerFigure[] {
  const figures: ServerFigure[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const next = lines[i + 1];
    // nginx: "server accepts handled requests" over " 1 2 3". The first word may name the
    // block (`server`) when there is one more word than numbers.
    if (HEADER_RE.test(line) && next !== undefined && NUMBERS_LINE_RE.test(next)) {
      const words = line.trim().split(/\s+/);
      const numbers = next.trim().split(/\s+/).map(Number);
      const names = words.length === numbers.length + 1 ? words.slice(1) : words.length === numbers.length ? words : undefined;
      if (names !== undefined) {
        names.forEach((name, k) => figures.push({ name, value: numbers[k] as number, kind: 'counter', labels: {} }));
        i += 1;
        continue;
      }
    }
    for (const match of line.matchAll(PAIR_RE)) {
      const name = (match[1] as string).trim();
      figures.push({ name, value: Number(match[2]), kind: kindOf(name), labels: {} });
    }
  }
  return figures;
}

// Apache's `Total Accesses` / `Total kBytes` and similar running totals are counters; others
// (connections, workers, Reading/Writing/Waiting) are point-in-time.
function kindOf(name: string): FigureKind {
  return /\btotal\b|_total$|^total/i.test(name) || /^(accepts|handled|requests)$/i.test(name) ? 'counter' : 'untyped';
}
