/**
 * Shared auth flags (listen, publish, stats, bench): a bearer token from `--token`,
 * `SSEKIT_TOKEN` or `--token-file`, placed in `Authorization` or a query parameter
 * (`--token-query`), or a JWT minted with `--jwt-secret` / `--jwt-key`. The flags only: what
 * they resolve to (tokens, minted JWTs) is `credentials.ts`, loaded when a command runs.
 */
import { Option, type Command } from 'commander';

/** The raw flag values. */
export interface AuthFlags {
  readonly token?: string;
  readonly tokenFile?: string;
  readonly tokenQuery?: string;
  readonly jwtSecret?: string;
  readonly jwtKey?: string;
  readonly claims?: string;
  readonly role?: string;
  readonly sub?: string;
  readonly ttl?: string;
}

/** Adds the auth flags to a command. */
export function addAuthFlags(command: Command): Command {
  return command
    .addOption(new Option('--token <token>', 'bearer token (prefer SSEKIT_TOKEN or --token-file: flags show up in ps)').env('SSEKIT_TOKEN'))
    .option('--token-file <path>', 'read the bearer token from a file')
    .option('--token-query <name>', 'send the token as this query parameter instead of Authorization (e.g. token)')
    .addOption(new Option('--jwt-secret <secret>', 'mint an HS256 JWT with this secret and use it as the token').env('SSEKIT_JWT_SECRET'))
    .option('--jwt-key <pem-file>', 'mint a JWT signed with this private key (RS256/ES256/EdDSA by key type)')
    .option('--claims <json>', 'claims of the minted JWT, as a JSON object')
    .option('--role <role>', 'role claim of the minted JWT (e.g. admin)')
    .option('--sub <id>', 'subject (user id) of the minted JWT')
    .option('--ttl <duration>', 'lifetime of the minted JWT', '1h');
}

/**
 * Flags over environment (k6 precedence): a `--token`/`--token-file` on the command line wins
 * over an exported `SSEKIT_JWT_SECRET`, and `--jwt-secret`/`--jwt-key` over an exported
 * `SSEKIT_TOKEN`; only two flags that contradict each other are an error.
 */
export function authFlagsOf<T extends AuthFlags>(flags: T, command: Command): T {
  const tokenFromEnv = command.getOptionValueSource('token') === 'env';
  const secretFromEnv = command.getOptionValueSource('jwtSecret') === 'env';
  const hasTokenFlag = (flags.token !== undefined && !tokenFromEnv) || flags.tokenFile !== undefined;
  const hasMintFlag = (flags.jwtSecret !== undefined && !secretFromEnv) || flags.jwtKey !== undefined;
  const { token, jwtSecret, ...rest } = flags;
  return {
    ...rest,
    ...(token === undefined || (tokenFromEnv && hasMintFlag) ? {} : { token }),
    ...(jwtSecret === undefined || (secretFromEnv && hasTokenFlag) ? {} : { jwtSecret }),
  } as T;
}

