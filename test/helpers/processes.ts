/** Child processes of a test's CLI run: who they are, and whether they are gone. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The pids of `pid`'s direct children (none when it has none). */
export function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether `pid` is a live process (a zombie nobody reaped yet counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Waits until none of `pids` is alive, or `timeoutMs`; the ones still alive. */
export async function survivorsAfter(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  return pids.filter(isAlive);
}
