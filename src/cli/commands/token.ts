import type { Command } from 'commander';
import type { RunCommand } from '../main.js';

/** `ssekit token`: placeholder. */
export function registerTokenCommand(program: Command, run: RunCommand): void {
  program.command('token').action(() => run(async () => 0));
}
