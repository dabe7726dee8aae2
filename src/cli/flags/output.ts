/**
 * Result files named by flags (`-o`, `--junit`, `--summary-md`): checked before a run starts
 * (a missing directory should not cost a whole run), and written after it, every one that can
 * be, whatever the run's end (nothing collected is lost).
 */
import { constants } from 'node:fs';
import { access, appendFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';

/** A file to write: its path (undefined = not asked for), how to render it, and whether to append (a CI step summary shared by steps). */
export type OutputFile = readonly [path: string | undefined, render: () => string, mode?: 'append'];

/** Fails before the run, not after it, when an output file could not be written. */
export async function checkOutputPaths(paths: readonly (string | undefined)[]): Promise<void> {
  for (const path of paths) {
    if (path === undefined) continue;
    try {
      await access(dirname(resolve(path)), constants.W_OK);
    } catch (error) {
      throw new UsageError(`cannot write ${path}: its directory is missing or read-only (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
}

/** Writes every requested file; one that fails does not stop the others. Returns the failures, one line each. */
export async function writeOutputFiles(files: readonly OutputFile[]): Promise<string[]> {
  const failures: string[] = [];
  for (const [path, render, mode] of files) {
    if (path === undefined) continue;
    try {
      await (mode === 'append' ? appendFile : writeFile)(path, render());
    } catch (error) {
      failures.push(`cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return failures;
}
