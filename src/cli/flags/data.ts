/** `--data <text|@file>` (listen, publish, bench): the text itself, or a file's content after `@`. */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../core/errors.js';

/** Reads the value of a data flag; a file that cannot be read is one usage error naming the flag. */
export async function readDataFlag(value: string, flag = '--data'): Promise<string> {
  return value.startsWith('@') ? readFlagFile(value.slice(1), flag) : value;
}

/** A file a flag names, as text; one usage error naming the flag and the reason when it cannot be read. */
export async function readFlagFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}
