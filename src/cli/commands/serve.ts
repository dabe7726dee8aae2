import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { RunCommand } from '../main.js';

/** `ssekit serve`: placeholder until the reference backend lands. */
export function registerServeCommand(program: Command, run: RunCommand): void {
  program
    .command('serve')
    .description('run the reference SSE backend (not yet implemented)')
    .action(() =>
      run(async () => {
        throw new UsageError('serve is not implemented yet');
      }),
    );
}
