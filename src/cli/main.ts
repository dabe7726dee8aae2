/**
 * The command map and the one place that turns results and errors into output and exit codes
 * (k6 "one place turns errors into messages"). Engines throw typed errors; only this file
 * prints them and only this file exits.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, InterruptedError, isSsekitError, type ExitCodeValue } from '../core/errors.js';
import { redactText } from '../core/redact.js';
import { createCliContext, type RunCommand } from './context.js';
import { registerListenCommand } from './commands/listen.js';
import { registerTokenCommand } from './commands/token.js';
import { registerServeCommand } from './commands/serve.js';
import { registerPublishCommand } from './commands/publish.js';
import { registerBenchCommand } from './commands/bench.js';
import { registerStatsCommand } from './commands/stats.js';
import { registerCheckCommand } from './commands/check.js';
import { VERSION } from './version.js';


/** Entry point used by `bin/ssekit.js`. */
export async function main(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts > 1) {
      // Second Ctrl-C: the user wants out now (k6's two-stage interrupt).
      process.stderr.write('ssekit: interrupted again, exiting now\n');
      process.exit(ExitCode.interrupted);
    }
    controller.abort(new InterruptedError(signal === 'SIGTERM' ? 'terminated (SIGTERM)' : 'interrupted (Ctrl-C)'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A stray rejection is a bug: report it like any other (one line, exit 1), never a raw trace.
  process.on('unhandledRejection', (reason) => {
    process.exitCode = reportError(reason, isDebug);
    process.exit(process.exitCode);
  });

  let exitCode: number = ExitCode.ok;
  let isDebug = argv.includes('--debug');
  // Progress and status lines are a courtesy: a closed stderr must not end a run before its
  // results are written.
  process.stderr.on('error', () => undefined);
  // A reader that goes away (`ssekit listen ... | head -3`) is a normal way to stop: end quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') {
      controller.abort(new InterruptedError('stdout closed'));
      process.exit(exitCode);
    }
  });

  const program = new Command('ssekit');
  const run: RunCommand = async (action) => {
    const globals = program.opts<{ color: boolean; debug: boolean }>();
    isDebug = globals.debug;
    const ctx = createCliContext(controller.signal, { noColor: globals.color === false, isDebug });
    exitCode = await action(ctx);
  };

  program
    .description('Tail, publish to, measure and load-test Server-Sent Events backends')
    .version(VERSION, '-V, --version')
    .option('--no-color', 'plain output without colours (also NO_COLOR=1)')
    .option('--debug', 'on errors, print the cause and stack trace', false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      // Commander's own usage errors arrive here already formatted; main prints them below.
      writeErr: (text) => {
        if (!text.startsWith('error:')) process.stderr.write(text);
      },
    });

  registerListenCommand(program, run);
  registerTokenCommand(program, run);
  registerPublishCommand(program, run);
  registerBenchCommand(program, run);
  registerStatsCommand(program, run);
  registerCheckCommand(program, run);
  registerServeCommand(program, run);

  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    exitCode = reportError(error, isDebug);
  }
  await flush(process.stdout);
  await flush(process.stderr);
  process.exit(exitCode);
}

/** Prints one redacted line (plus a hint) for an error and returns its exit code. */
function reportError(error: unknown, isDebug: boolean): ExitCodeValue {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
    const message = error.message.replace(/^error:\s*/, '');
    process.stderr.write(`ssekit: ${redactText(message)}\nhint: see 'ssekit --help' or 'ssekit <command> --help'\n`);
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (isSsekitError(error)) {
    process.stderr.write(`ssekit: ${redactText(error.message)}\n`);
    if (error.hint) process.stderr.write(`hint: ${redactText(error.hint)}\n`);
    if (isDebug) printDebug(error);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`ssekit: internal error (a bug): ${redactText(message.split('\n')[0] ?? '')}\n`);
  if (isDebug) printDebug(error);
  else process.stderr.write('hint: run again with --debug for the stack trace, and report it\n');
  return ExitCode.internal;
}

function printDebug(error: unknown): void {
  let current: unknown = error;
  let depth = 0;
  while (current !== undefined && depth < 5) {
    const text = current instanceof Error ? (current.stack ?? current.message) : String(current);
    process.stderr.write(`${depth === 0 ? 'stack' : 'cause'}: ${redactText(text)}\n`);
    current = current instanceof Error ? current.cause : undefined;
    depth += 1;
  }
}

function flush(stream: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    if ((stream as { destroyed?: boolean }).destroyed) return resolve();
    stream.write('', () => resolve());
  });
}
