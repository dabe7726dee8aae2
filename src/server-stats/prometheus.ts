/**
 * A parser for the Prometheus text exposition format (0.0.4) and its OpenMetrics 1.0 variant:
 * `# HELP`/`# TYPE`/`# UNIT`/`# EOF`, labels with `\\` `\"` `\n` escapes and a trailing comma,
 * quoted UTF-8 metric names (`{"my.metric",a="b"}`, Prometheus 3), NaN and ±Inf values,
 * optional timestamps and OpenMetrics exemplars (both ignored: we only show current values).
 *
 * Why our own: prom-client (installed) only writes the format, and the npm parsers are either
 * unmaintained since 2019 without types (`parse-prometheus-text-format`, which also drops
 * timestamps silently and does not handle quoted names) or PromQL grammars, not exposition ones.
 * The grammar is small and fully specified, so a strict line parser with good errors is safer.
 */
import { ProtocolError } from '../core/errors.js';
import type { FigureKind, HistogramBucket, MetricFamily, ServerFigure, ServerHistogram } from './types.js';

/** What one exposition parses into. */
export interface PrometheusParse {
  readonly figures: readonly ServerFigure[];
  readonly histograms: readonly ServerHistogram[];
  readonly families: readonly MetricFamily[];
}

// OpenMetrics types folded into ours: gaugehistogram has buckets too; info and stateset are gauges.
const TYPE_KIND: Readonly<Record<string, FigureKind>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'histogram',
  summary: 'summary',
  untyped: 'untyped',
  unknown: 'untyped',
  info: 'gauge',
  stateset: 'gauge',
};

// A sample's name is its family's, or the family's plus one of these (OpenMetrics names the
// family `foo` and the sample `foo_total`; 0.0.4 names both `foo_total`).
const SUFFIXES: Readonly<Record<string, readonly FigureKind[]>> = {
  _bucket: ['histogram'],
  _sum: ['histogram', 'summary'],
  _count: ['histogram', 'summary'],
  _gcount: ['histogram'],
  _gsum: ['histogram'],
  _total: ['counter'],
  _created: ['counter', 'histogram', 'summary'],
  _info: ['gauge'],
};

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Parses a Prometheus value: a float, `NaN`, `+Inf`, `-Inf` (also `Inf`); undefined if not one. */
export function parsePrometheusValue(text: string): number | undefined {
  if (FLOAT_RE.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Number.POSITIVE_INFINITY;
  if (lower === '-inf' || lower === '-infinity') return Number.NEGATIVE_INFINITY;
  return undefined;
}

/** Parses exposition text. Throws `ProtocolError` naming the line for anything malformed. */
export function parsePrometheusText(text: string): PrometheusParse {
  const families = new Map<string, { name: string; kind: FigureKind; help: string }>();
  const figures: ServerFigure[] = [];
  const lines = text.split('\n');
  const declare = (name: string): { name: string; kind: FigureKind; help: string } => {
    let family = families.get(name);
    if (family === undefined) {
      family = { name, kind: 'untyped', help: '' };
      families.set(name, family);
    }
    return family;
  };
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index] as string;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const fail = (why: string): never => {
      throw new ProtocolError('SSEKIT_BAD_STATS', `Prometheus text, line ${index + 1}: ${why}: ${excerpt(line)}`, { hint: 'if this is not Prometheus text, give --format json or --format status-page' });
    };
    if (line.startsWith('#')) {
      const meta = /^#\s+(HELP|TYPE|UNIT)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (meta === null) continue; // A plain comment, or `# EOF`.
      const [, keyword, rawName, rest = ''] = meta as unknown as [string, string, string, string | undefined];
      const name = rawName.startsWith('"') ? unquote(rawName, fail) : rawName;
      const family = declare(name);
      if (keyword === 'TYPE') {
        const kind = TYPE_KIND[rest.trim().toLowerCase()];
        if (kind === undefined) fail(`unknown metric type '${rest.trim()}'`);
        family.kind = kind as FigureKind;
      } else if (keyword === 'HELP') {
        family.help = rest.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\'));
      }
      continue;
    }
    const sample = parseSampleLine(line, fail);
    const family = familyOf(sample.name, families);
    figures.push({ name: sample.name, value: sample.value, kind: family?.kind ?? 'untyped', labels: sample.labels });
    if (family === undefined) families.set(sample.name, { name: sample.name, kind: 'untyped', help: '' });
  }
  return {
    figures,
    histograms: collectHistograms(figures, families),
    families: [...families.values()].map(({ name, kind, help }) => ({ name, kind, help })),
  };
}

function familyOf(sampleName: string, families: ReadonlyMap<string, { kind: FigureKind }>): { name: string; kind: FigureKind } | undefined {
  const exact = families.get(sampleName);
  // An exactly named family wins, unless it is an implied untyped one shadowing a typed parent.
  if (exact !== undefined && exact.kind !== 'untyped') return { name: sampleName, kind: exact.kind };
  for (const [suffix, kinds] of Object.entries(SUFFIXES)) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, -suffix.length);
    const family = families.get(base);
    if (family !== undefined && kinds.includes(family.kind)) return { name: base, kind: family.kind };
  }
  return exact === undefined ? undefined : { name: sampleName, kind: exact.kind };
}

/** The family a sample name belongs to (`x_bucket` → `x` when `x` is a histogram). */
export function familyNameOf(sampleName: string, families: readonly MetricFamily[]): string | undefined {
  return familyOf(sampleName, new Map(families.map((f) => [f.name, f])))?.name;
}

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

function parseSampleLine(line: string, fail: (why: string) => never): Sample {
  let pos = 0;
  let name = '';
  const labels: Record<string, string> = {};
  const nameMatch = NAME_RE.exec(line);
  if (nameMatch !== null) {
    name = nameMatch[0];
    pos = name.length;
  } else if (line[0] !== '{') {
    fail('not a sample (expected a metric name)');
  }
  if (line[pos] === '{') {
    pos += 1;
    for (;;) {
      pos = skipSpaces(line, pos);
      if (line[pos] === '}') {
        pos += 1;
        break;
      }
      let labelName: string;
      if (line[pos] === '"') {
        const quoted = readQuoted(line, pos, fail);
        pos = skipSpaces(line, quoted.end);
        // Prometheus 3: a quoted string that is not followed by `=` is the metric name.
        if (line[pos] !== '=') {
          if (name !== '') fail('two metric names');
          name = quoted.value;
          if (line[pos] === ',') pos += 1;
          continue;
        }
        labelName = quoted.value;
      } else {
        const labelMatch = LABEL_NAME_RE.exec(line.slice(pos));
        if (labelMatch === null) fail('bad label name');
        labelName = (labelMatch as RegExpExecArray)[0];
        pos = skipSpaces(line, pos + labelName.length);
      }
      if (line[pos] !== '=') fail(`expected '=' after label ${labelName}`);
      pos = skipSpaces(line, pos + 1);
      if (line[pos] !== '"') fail(`label ${labelName}: value must be in double quotes`);
      const value = readQuoted(line, pos, fail);
      if (Object.hasOwn(labels, labelName)) fail(`label ${labelName} given twice`);
      labels[labelName] = value.value;
      pos = skipSpaces(line, value.end);
      if (line[pos] === ',') pos += 1;
      else if (line[pos] !== '}') fail("expected ',' or '}' in the labels");
    }
  }
  if (name === '') fail('sample without a metric name');
  if (line[pos] !== ' ' && line[pos] !== '\t') fail('expected a space before the value');
  // Value, optional timestamp, optional OpenMetrics exemplar (`# {...} 1.0 [ts]`): ignored.
  const rest = line.slice(pos).trim();
  const hash = rest.indexOf('#');
  const fields = (hash === -1 ? rest : rest.slice(0, hash)).trim().split(/[ \t]+/);
  const valueText = fields[0] ?? '';
  const value = parsePrometheusValue(valueText);
  if (value === undefined) fail(`'${valueText}' is not a number`);
  if (fields.length > 2) fail('unexpected text after the timestamp');
  if (fields.length === 2 && parsePrometheusValue(fields[1] as string) === undefined) fail(`timestamp '${fields[1] as string}' is not a number`);
  return { name, labels, value: value as number };
}

function skipSpaces(line: string, pos: number): number {
  while (line[pos] === ' ' || line[pos] === '\t') pos += 1;
  return pos;
}

/** Reads a double-quoted string at `start` with the format's escapes (`\\`, `\"`, `\n`). */
function readQuoted(line: string, start: number, fail: (why: string) => never): { value: string; end: number } {
  let out = '';
  for (let pos = start + 1; pos < line.length; pos++) {
    const c = line[pos] as string;
    if (c === '"') return { value: out, end: pos + 1 };
    if (c === '\\') {
      const next = line[pos + 1];
      if (next === undefined) break;
      // The format defines three escapes; Prometheus' own parser rejects others, we keep them as written.
      out += next === 'n' ? '\n' : next === '\\' ? '\\' : next === '"' ? '"' : `\\${next}`;
      pos += 1;
    } else {
      out += c;
    }
  }
  return fail('unterminated quoted string');
}

function unquote(text: string, fail: (why: string) => never): string {
  return readQuoted(text, 0, fail).value;
}

function collectHistograms(figures: readonly ServerFigure[], families: ReadonlyMap<string, { kind: FigureKind }>): ServerHistogram[] {
  interface Draft {
    name: string;
    labels: Record<string, string>;
    buckets: HistogramBucket[];
    sum: number;
    count: number | undefined;
  }
  const drafts = new Map<string, Draft>();
  const draftFor = (name: string, labels: Readonly<Record<string, string>>): Draft => {
    const key = `${name}\u0000${seriesKey(labels)}`;
    let draft = drafts.get(key);
    if (draft === undefined) {
      draft = { name, labels: { ...labels }, buckets: [], sum: Number.NaN, count: undefined };
      drafts.set(key, draft);
    }
    return draft;
  };
  for (const figure of figures) {
    if (figure.kind !== 'histogram') continue;
    const family = familyOf(figure.name, families);
    if (family === undefined || family.name === figure.name) continue;
    const suffix = figure.name.slice(family.name.length);
    if (suffix === '_bucket' || suffix === '_gcount' || suffix === '_count' || suffix === '_sum' || suffix === '_gsum') {
      if (suffix === '_bucket') {
        const { le, ...rest } = figure.labels;
        const bound = le === undefined ? undefined : parsePrometheusValue(le);
        if (bound === undefined) continue;
        draftFor(family.name, rest).buckets.push({ le: bound, count: figure.value });
      } else if (suffix === '_sum' || suffix === '_gsum') {
        draftFor(family.name, figure.labels).sum = figure.value;
      } else {
        draftFor(family.name, figure.labels).count = figure.value;
      }
    }
  }
  return [...drafts.values()].map((d) => {
    const buckets = [...d.buckets].sort((a, b) => a.le - b.le);
    const inf = buckets.find((b) => b.le === Number.POSITIVE_INFINITY);
    return { name: d.name, labels: d.labels, buckets, sum: d.sum, count: d.count ?? inf?.count ?? 0 };
  });
}

/** A stable key for a label set (sorted names). */
export function seriesKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

/** `name{a="x",b="y"}` in the exposition's own escaping; just `name` without labels. */
export function formatSeries(name: string, labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return name;
  const body = entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',');
  return `${name}{${body}}`;
}

/**
 * Estimates a quantile (0–1) from cumulative buckets as PromQL's `histogram_quantile` does:
 * linear interpolation inside the bucket holding the rank, the lower bound of the first bucket
 * taken as 0, and the highest finite bound when the rank falls in the `+Inf` bucket. NaN when
 * there are no observations.
 */
export function estimateQuantile(buckets: readonly HistogramBucket[], quantile: number): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const last = sorted[sorted.length - 1];
  if (last === undefined || !(last.count > 0) || quantile < 0 || quantile > 1) return Number.NaN;
  const total = last.count;
  const rank = quantile * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Number.POSITIVE_INFINITY) return previousLe;
      const inBucket = bucket.count - previousCount;
      if (inBucket <= 0) return bucket.le;
      const lower = previousLe > bucket.le ? bucket.le : previousLe;
      return lower + (bucket.le - lower) * ((rank - previousCount) / inBucket);
    }
    previousLe = bucket.le;
    previousCount = bucket.count;
  }
  return previousLe;
}

/**
 * Adds several series' cumulative buckets. Bounds are unioned; where one series lacks a bound,
 * its count at the nearest lower bound is used (cumulative, so that is exact for it).
 */
export function sumBuckets(series: readonly ServerHistogram[]): HistogramBucket[] {
  const bounds = [...new Set(series.flatMap((s) => s.buckets.map((b) => b.le)))].sort((a, b) => a - b);
  return bounds.map((le) => {
    let count = 0;
    for (const s of series) {
      let atOrBelow = 0;
      for (const b of s.buckets) if (b.le <= le && b.count > atOrBelow) atOrBelow = b.count;
      count += atOrBelow;
    }
    return { le, count };
  });
}

function excerpt(line: string): string {
  return JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
}
