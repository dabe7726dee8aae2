/**
 * `ssekit token`: prints a JWT minted like `listen --jwt-secret` does, for curl or a browser.
 * Without a key it signs with the dev secret `ssekit serve` accepts by default.
 */
import { Option, type Command } from 'commander';
import { ExitCode } from '../../core/errors.js';
import { DEV_JWT_SECRET } from '../../core/dev-jwt.js';
import type { RunCommand } from '../context.js';
import type { AuthFlags } from '../flags/auth.js';

/** Registers `token`. */
export function registerTokenCommand(program: Command, run: RunCommand): void {
  program
    .command('token')
    .description(`mint a JWT (HS256 with --jwt-secret, default the ssekit serve dev secret; or --jwt-key)`)
    .addOption(new Option('--jwt-secret <secret>', 'HS256 secret').env('SSEKIT_JWT_SECRET'))
    .option('--jwt-key <pem-file>', 'sign with this private key (RS256/ES256/EdDSA by key type)')
    .option('--claims <json>', 'claims as a JSON object')
    .option('--role <role>', 'role claim (admin, store, customer, superadmin)')
    .option('--sub <id>', 'subject (user id)')
    .option('--ttl <duration>', 'lifetime', '1h')
    .addHelpText(
      'after',
      `
Examples:
  $ ssekit token --role admin --sub 1
  $ curl -N -H "Authorization: Bearer $(ssekit token --role admin --sub 1)" http://127.0.0.1:8787/api/admin/events
  $ ssekit token --jwt-key key.pem --role superadmin --claims '{"salon_id":3}'`,
    )
    .action((flags: AuthFlags) =>
      run(async (ctx) => {
        if (flags.jwtSecret === undefined && flags.jwtKey === undefined && ctx.stderr.isTTY) {
          ctx.stderr.write(`signed with the ssekit serve dev secret (${DEV_JWT_SECRET}); pass --jwt-secret for a real server\n`);
        }
        const { mintFromFlags } = await import('../flags/credentials.js');
        ctx.stdout.write(`${await mintFromFlags(flags, { useDevSecret: true })}\n`);
        return ExitCode.ok;
      }),
    );
}
