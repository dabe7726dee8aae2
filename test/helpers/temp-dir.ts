/** A temporary directory for one test, removed when the test finishes. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** Creates `ssekit-<prefix>-XXXXXX` under the system temp dir; removed at the test's end. */
export async function tempDir(prefix = 'test'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `ssekit-${prefix}-`));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
