/**
 * Reading and writing bench result files: one-line `UsageError`s naming the file for anything
 * unreadable (missing, not JSON, wrong schemaVersion), so `stats report|compare|merge` never
 * print a stack trace for a wrong file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';
import { validateResult, type NamedResult } from './results.js';

/** Reads and validates one result file. */
export async function readResultFile(file: string): Promise<NamedResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read (${code ?? 'error'})`}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file}: not JSON (${error instanceof Error ? (error.message.split('\n')[0] ?? '') : 'invalid'})`, { cause: error, hint: "expected a file written by 'ssekit bench --out'" });
  }
  return { file, result: validateResult(json, file) };
}

/** Writes a result file (the JSON text is made by the caller's reporter). */
export async function writeResultFile(file: string, json: string): Promise<void> {
  try {
    await writeFile(file, json.endsWith('\n') ? json : `${json}\n`);
  } catch (error) {
    throw new UsageError(`${file}: cannot write (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}
