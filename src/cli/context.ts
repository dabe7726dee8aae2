/**
 * Everything a command needs from the process, injected so commands never reach for globals
 * (as k6's GlobalState). Only `cli/` builds or reads this.
 */
export interface CliContext {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stdout is a terminal (colours, pretty output). */
  readonly isTTY: boolean;
  /** colours allowed: a TTY, no `NO_COLOR`, no `--no-color`. */
  readonly useColor: boolean;
  /** Aborted on the first Ctrl-C (SIGINT) or SIGTERM; a second Ctrl-C exits at once. */
  readonly signal: AbortSignal;
  /** `--debug`: errors print their cause and stack. */
  readonly isDebug: boolean;
}

/** Builds the context from the real process. `noColor` comes from the global `--no-color`. */
export function createCliContext(signal: AbortSignal, options: { noColor: boolean; isDebug: boolean }): CliContext {
  const env = process.env;
  const isTTY = Boolean(process.stdout.isTTY);
  const noColorEnv = env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '';
  const forceColor = env['FORCE_COLOR'] !== undefined && env['FORCE_COLOR'] !== '0';
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env,
    isTTY,
    useColor: !options.noColor && !noColorEnv && (isTTY || forceColor),
    signal,
    isDebug: options.isDebug,
  };
}

/** How a command runs: `run(ctx => exitCode)`; main owns context, errors and the exit code. */
export type RunCommand = (action: (ctx: CliContext) => Promise<number>) => Promise<void>;
