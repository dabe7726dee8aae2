/**
 * Runs the built CLI (`bin/ssekit.js`, so `npm run build` first: `npm test` does) through
 * execa, and waits for lines from long-running commands without sleeping.
 */
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

/**
 * The environment of every CLI run in tests: no colour, and a generous lag guard — tests share
 * two cores with each other, so ssekit's own event loop lags for reasons no test is about (the
 * tests of the guard set SSEKIT_MAX_SELF_LAG themselves).
 */
const TEST_ENV: Record<string, string> = { NO_COLOR: '1', SSEKIT_MAX_SELF_LAG: '10s' };

/** Absolute path of the CLI shim. */
export const BIN = fileURLToPath(new URL('../../bin/ssekit.js', import.meta.url));

export interface CliRun {
  /** The exit code; -1 when the process was killed by a signal (see `signal`). */
  readonly exitCode: number;
  readonly signal?: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `ssekit ...args` to completion (never throws on a non-zero exit). */
export async function runCli(args: readonly string[], options: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {}): Promise<CliRun> {
  const result = await execa('node', [BIN, ...args], {
    reject: false,
    env: { ...TEST_ENV, ...options.env },
    timeout: options.timeoutMs ?? 20_000,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

function spawnCli(args: readonly string[], env: Record<string, string> | undefined) {
  return execa('node', [BIN, ...args], { reject: false, env: { ...TEST_ENV, ...env }, stdin: 'ignore', buffer: true });
}

export interface CliProcess {
  readonly child: ReturnType<typeof spawnCli>;
  /** All stdout and stderr seen so far. */
  readonly output: () => { stdout: string; stderr: string };
  /** Resolves with the first line (stdout or stderr) matching `pattern`; rejects with the output on timeout. */
  readonly waitForLine: (pattern: RegExp, timeoutMs?: number) => Promise<string>;
  /** Waits for the process to end. */
  readonly result: () => Promise<CliRun>;
}

/** Starts `ssekit ...args` in the background; the test's teardown kills it. */
export function startCli(args: readonly string[], options: { env?: Record<string, string> } = {}): CliProcess {
  const child = spawnCli(args, options.env);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const w of waiters) w();
  });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const waitForLine = (pattern: RegExp, timeoutMs = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (const line of `${stdout}\n${stderr}`.split('\n')) {
          if (pattern.test(line)) {
            waiters.delete(onData);
            clearTimeout(timer);
            resolve(line);
            return true;
          }
        }
        return false;
      };
      const onData = (): void => void check();
      const timer = setTimeout(() => {
        waiters.delete(onData);
        reject(new Error(`timed out waiting for ${pattern}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      }, timeoutMs);
      waiters.add(onData);
      check();
    });
  const result = async (): Promise<CliRun> => {
    const r = await child;
    // A process killed by a signal did not handle it: report that, never a made-up 130.
    return { exitCode: r.exitCode ?? -1, signal: r.signal, stdout, stderr };
  };
  return { child, output: () => ({ stdout, stderr }), waitForLine, result };
}
