import type { Command } from 'commander';
import type { RunCommand } from '../main.js';

/** `ssekit listen`: placeholder. */
export function registerListenCommand(program: Command, run: RunCommand): void {
  program.command('listen').argument('<url...>').action(() => run(async () => 0));
}
