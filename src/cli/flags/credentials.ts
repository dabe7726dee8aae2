/**
 * What the auth flags resolve to, when a command runs: a token placement (listen, stats), a
 * per-client auth plan (bench, publish), a minted JWT (`ssekit token`). Contradictory flags are
 * one usage error.
 */
import { readFile } from 'node:fs/promises';
import { readFlagFile } from './data.js';
import { UsageError } from '../../core/errors.js';
import { registerSecret } from '../../core/redact.js';
import { parseDuration } from '../../core/duration.js';
import { mintJwt, type TokenPlacement } from '../../transport/auth.js';
import type { AuthPlan } from '../../transport/identity.js';
import type { AuthFlags } from './auth.js';

/** Whether any JWT-minting flag was given. */
function wantsMint(flags: AuthFlags): boolean {
  return flags.jwtSecret !== undefined || flags.jwtKey !== undefined;
}

/** Parses `--claims`; `UsageError` unless it is a JSON object. */
function parseClaims(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`--claims: not valid JSON: ${text.slice(0, 80)}`, { hint: `e.g. --claims '{"salon_id":1}'` });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new UsageError('--claims: must be a JSON object');
  return value as Record<string, unknown>;
}

/** Mints a JWT from the flags (used by `listen` and by `ssekit token`). */
export async function mintFromFlags(flags: AuthFlags, options: { useDevSecret: boolean }): Promise<string> {
  const claims = parseClaims(flags.claims);
  const ttlMs = parseDuration(flags.ttl ?? '1h', '--ttl');
  const privateKeyPem = await readJwtKey(flags.jwtKey);
  if (!options.useDevSecret && flags.jwtSecret === undefined && privateKeyPem === undefined) {
    throw new UsageError('no signing key: give --jwt-secret or --jwt-key');
  }
  return mintJwt({ secret: flags.jwtSecret, privateKeyPem, claims, role: flags.role, sub: flags.sub, ttlMs });
}

/** Rejects contradictory auth flags (a token and minting flags, claims without a key). */
function checkAuthFlags(flags: AuthFlags): void {
  const hasMintOnlyFlags = flags.claims !== undefined || flags.role !== undefined || flags.sub !== undefined;
  if (hasMintOnlyFlags && !wantsMint(flags)) {
    throw new UsageError('--claims/--role/--sub mint a JWT and need --jwt-secret or --jwt-key', { hint: "ssekit serve's dev secret is ssekit-dev-secret-change-me" });
  }
  if (flags.tokenFile !== undefined && wantsMint(flags)) throw new UsageError('give either --token-file or --jwt-secret/--jwt-key, not both');
  if (flags.token !== undefined && flags.token !== '' && wantsMint(flags)) {
    throw new UsageError('give either a token (--token or SSEKIT_TOKEN) or --jwt-secret/--jwt-key to mint one, not both', { hint: 'unset SSEKIT_TOKEN, or drop the minting flags' });
  }
}

/** Resolves the flags to a token placement (undefined: no auth). */
export async function resolveToken(flags: AuthFlags): Promise<TokenPlacement | undefined> {
  checkAuthFlags(flags);
  let token: string | undefined;
  if (flags.tokenFile !== undefined) {
    try {
      token = (await readFile(flags.tokenFile, 'utf8')).trim();
    } catch (error) {
      throw new UsageError(`--token-file: cannot read ${flags.tokenFile}`, { cause: error });
    }
    if (token === '') throw new UsageError(`--token-file: ${flags.tokenFile} is empty`);
  } else if (wantsMint(flags)) {
    token = await mintFromFlags(flags, { useDevSecret: false });
  } else if (flags.token !== undefined && flags.token !== '') {
    token = flags.token.trim();
  }
  registerSecret(token);
  registerSecret(flags.jwtSecret);
  if (token === undefined) {
    if (flags.tokenQuery !== undefined) throw new UsageError('--token-query needs a token (--token, SSEKIT_TOKEN, --token-file or --jwt-secret)');
    return undefined;
  }
  return flags.tokenQuery === undefined ? { token } : { token, queryName: flags.tokenQuery };
}

/** Reads `--jwt-key` (undefined when not given); `UsageError` naming the reason otherwise. */
async function readJwtKey(path: string | undefined): Promise<string | undefined> {
  return path === undefined ? undefined : readFlagFile(path, '--jwt-key');
}

/**
 * The auth flags as a per-client plan (bench's virtual users, publish's watchers): a shared
 * token (`--token`, `SSEKIT_TOKEN`, `--token-file`), or a JWT minted per client
 * (`--jwt-secret`/`--jwt-key` with `--claims`, `--role`, `--sub`, where `{{vu}}` is the
 * client's index; without a subject each client gets its own). Undefined: no auth flags.
 */
export async function authPlanFromFlags(flags: AuthFlags): Promise<AuthPlan | undefined> {
  checkAuthFlags(flags);
  if (wantsMint(flags)) {
    const claims: Record<string, unknown> = { ...parseClaims(flags.claims) };
    if (flags.role !== undefined) claims['role'] = flags.role;
    if (flags.sub !== undefined) claims['sub'] = flags.sub;
    const privateKeyPem = await readJwtKey(flags.jwtKey);
    if (flags.jwtSecret === '') throw new UsageError('--jwt-secret must not be empty', { hint: 'is the variable holding it set? (ssekit serve prints its dev secret at start)' });
    registerSecret(flags.jwtSecret);
    return { jwtSecret: flags.jwtSecret, privateKeyPem, claims, ttlMs: parseDuration(flags.ttl ?? '1h', '--ttl'), queryName: flags.tokenQuery };
  }
  const token = await resolveToken(flags);
  return token === undefined ? undefined : { token: token.token, queryName: token.queryName };
}
