/**
 * Reading, checking and writing result files (bench and publish): one-line `UsageError`s naming
 * the file for anything unreadable (missing, not JSON, wrong kind or schemaVersion), so
 * `stats report|compare|merge` never print a stack trace for a wrong file.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { READABLE_RESULT_SCHEMA_VERSIONS, type BenchResult } from '../metrics/bench-result.js';
import { decodeLatencyHistogram } from '../metrics/histogram.js';
import { PUBLISH_RESULT_SCHEMA_VERSION, type PublishResult } from '../metrics/publish-result.js';

/** The result files ssekit writes and reads back. */
export type ResultFile = BenchResult | PublishResult;

/** A result and the file it came from (for messages). */
export interface NamedResult<T extends ResultFile = ResultFile> {
  readonly file: string;
  readonly result: T;
}

/** The fields each kind must have, by type; the histogram blocks are decoded as a check. */
const REQUIRED = {
  bench: {
    schemaVersions: READABLE_RESULT_SCHEMA_VERSIONS,
    string: ['scenario.name', 'scenario.hash', 'runId', 'latency.hdr', 'connect.headers.hdr', 'connect.firstEvent.hdr', 'startedAt', 'endedAt'],
    number: ['durationMs', 'clients.planned', 'clients.peakOpen', 'clients.opens', 'events.published', 'events.delivered', 'events.lost', 'reconnects.total', 'errors.total'],
    object: ['events', 'reconnects.byReason', 'statuses', 'errors.byClass', 'leak', 'self'],
    list: ['thresholds'],
    histograms: ['latency', 'connect.headers', 'connect.firstEvent'],
  },
  publish: {
    schemaVersions: [PUBLISH_RESULT_SCHEMA_VERSION] as readonly number[],
    string: ['producer', 'latency.hdr', 'callLatency.hdr', 'startedAt', 'endedAt', 'gate'],
    number: ['durationMs', 'watchers', 'sent', 'producerErrors', 'expectedDeliveries', 'delivered', 'lost', 'duplicated', 'targetMs'],
    object: ['latency.summary', 'callLatency.summary'],
    list: ['events', 'failures'],
    histograms: ['latency', 'callLatency'],
  },
} as const;

function valueAt(record: Record<string, unknown>, path: string): unknown {
  let current: unknown = record;
  for (const key of path.split('.')) current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[key] : undefined;
  return current;
}

/**
 * Checks that parsed JSON is a bench or publish result this version reads; a one-line
 * `UsageError` naming the file otherwise.
 */
export function validateResultFile(json: unknown, file: string): ResultFile {
  const bad = (why: string): never => {
    throw new UsageError(`${file}: ${why}`, { hint: "expected a file written by 'ssekit bench --out' or 'ssekit publish --out'" });
  };
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return bad('not a result (not a JSON object)');
  const record = json as Record<string, unknown>;
  if (!('schemaVersion' in record)) return bad('not a result (no schemaVersion)');
  const kind = record['kind'];
  if (kind !== 'bench' && kind !== 'publish') return bad(`kind ${JSON.stringify(kind)} is not 'bench' or 'publish'`);
  const required = REQUIRED[kind];
  if (!required.schemaVersions.includes(record['schemaVersion'] as number)) return bad(`schemaVersion ${JSON.stringify(record['schemaVersion'])} is not supported (this ssekit reads ${required.schemaVersions.join(' and ')})`);
  for (const path of required.string) if (typeof valueAt(record, path) !== 'string') bad(`${path} is missing or not a string`);
  for (const path of required.number) if (typeof valueAt(record, path) !== 'number') bad(`${path} is missing or not a number`);
  for (const path of required.object) {
    const value = valueAt(record, path);
    if (value === null || typeof value !== 'object') bad(`${path} is missing or not a object`);
  }
  for (const path of required.list) if (!Array.isArray(valueAt(record, path))) bad(`${path} is missing or not a list`);
  for (const path of required.histograms) {
    try {
      decodeLatencyHistogram(valueAt(record, `${path}.hdr`) as string);
    } catch {
      bad(`${path}.hdr is not an HdrHistogram (compressed base64)`);
    }
  }
  return json as ResultFile;
}

/** Narrows a result to a bench result; `UsageError` naming the file and what needs one. */
export function requireBenchResult(named: NamedResult, what: string): NamedResult<BenchResult> {
  if (named.result.kind !== 'bench') throw new UsageError(`${named.file}: a ${named.result.kind} result: ${what} takes bench results`);
  return named as NamedResult<BenchResult>;
}

/** Reads and validates one result file. */
export async function readResultFile(file: string): Promise<NamedResult> {
  const text = await readText(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${error instanceof Error ? (error.message.split('\n')[0] ?? '') : 'invalid'})`, { cause: error, hint: "expected a file written by 'ssekit bench --out' or 'ssekit publish --out'" });
  }
  return { file, result: validateResultFile(json, file) };
}

/**
 * The results behind each path, for `stats merge`: a result file; a directory (every `.json` and
 * `.log` file in it); or a log with one result per line among other lines — what `kubectl logs`
 * gives for the pods of a sharded Job, each of which ends with `bench --result-line`.
 */
export async function readResultFiles(paths: readonly string[]): Promise<NamedResult[]> {
  const out: NamedResult[] = [];
  for (const path of paths) {
    const entries = await directoryEntries(path);
    for (const file of entries ?? [path]) out.push(...(await readResultsIn(file)));
  }
  return out;
}

/** A directory's result files (sorted), or undefined when the path is not a directory. */
async function directoryEntries(path: string): Promise<string[] | undefined> {
  try {
    const names = await readdir(path);
    return names.filter((n) => n.endsWith('.json') || n.endsWith('.log')).sort().map((n) => join(path, n));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR' || (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}

async function readResultsIn(file: string): Promise<NamedResult[]> {
  const text = await readText(file);
  try {
    return [{ file, result: validateResultFile(JSON.parse(text), file) }];
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  // A log: the lines that are results (`{"schemaVersion":…}`), each named by its line.
  const results: NamedResult[] = [];
  text.split('\n').forEach((line, i) => {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{') || !trimmed.includes('"schemaVersion"')) return;
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      return;
    }
    results.push({ file: `${file}:${i + 1}`, result: validateResultFile(json, `${file}:${i + 1}`) });
  });
  if (results.length === 0) throw new UsageError(`${file}: neither a result file nor a log with results in it`, { hint: "expected 'ssekit bench --out' files, or the output of 'bench --result-line' (kubectl logs)" });
  return results;
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? 'error'})`}`, { cause: error });
  }
}

/** Writes a result file (the JSON text is made by the caller's reporter). */
export async function writeResultFile(file: string, json: string): Promise<void> {
  try {
    await writeFile(file, json.endsWith('\n') ? json : `${json}\n`);
  } catch (error) {
    throw new UsageError(`${file}: cannot write (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}
