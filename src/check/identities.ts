/**
 * Tokens for checks. A contract names identities (`admin: {role: admin, salon_id: 1}`) and each
 * check says which one it acts as; every token is minted for a *fresh* user
 * (`ssekit-check-<run>-<n>`) unless the claims name a `sub`, because the seeds limit streams per
 * user (CONTRACTS §1: one per admin, §5: five) and one check's streams must not close another's.
 * `--claims` is merged into every identity. With a fixed `--token` only the contract's default
 * identity can be played; a check that needs another one, or an expired token, is skipped.
 */
import { randomBytes } from 'node:crypto';
import { registerSecret } from '../core/redact.js';
import { mintJwt, type TokenPlacement } from '../transport/auth.js';
import { fillTemplate, type AuthPlan } from '../transport/identity.js';
import type { IdentityClaims } from './plan.js';

/** Thrown by a check (or a case of one) that cannot run with the credentials given; the reason is reported as SKIP. */
export class SkipCheck extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SkipCheck';
  }
}

/** What a check asks for. */
export interface TokenRequest {
  /** The contract's identity name. */
  readonly as: string;
  /** Minted already expired (exp one hour ago). */
  readonly isExpired?: boolean | undefined;
  /** Put the token in this query parameter instead of `Authorization` (default: `--token-query`, else the header). */
  readonly queryName?: string | undefined;
}

/** Makes tokens for one run. */
export interface TokenMint {
  readonly tokenFor: (request: TokenRequest) => Promise<TokenPlacement>;
}

/** Options for `createTokenMint`. */
export interface TokenMintOptions {
  readonly auth: AuthPlan | undefined;
  readonly identities: Readonly<Record<string, IdentityClaims>>;
  /** The identity a fixed token stands for. */
  readonly defaultIdentity: string;
}

const HOUR_MS = 3_600_000;

/** Creates the run's token source. */
export function createTokenMint(options: TokenMintOptions): TokenMint {
  const runId = randomBytes(3).toString('hex');
  let users = 0;
  const { auth } = options;
  return {
    async tokenFor(request) {
      const queryName = request.queryName ?? auth?.queryName;
      if (auth === undefined) throw new SkipCheck('no credentials: give --jwt-secret (or --jwt-key) to mint tokens, or --token');
      if (auth.token !== undefined) return placement(fixedToken(auth.token, request, options.defaultIdentity), queryName);
      const claims = options.identities[request.as];
      if (claims === undefined) throw new SkipCheck(`the contract has no identity '${request.as}'`);
      const user = users++;
      const merged = fillTemplate({ ...claims, ...auth.claims }, user) as Record<string, unknown>;
      merged['sub'] ??= `ssekit-check-${runId}-${user}`;
      const nowMs = request.isExpired === true ? Date.now() - 2 * HOUR_MS : undefined;
      const token = await mintJwt({ secret: auth.jwtSecret, privateKeyPem: auth.privateKeyPem, claims: merged, ttlMs: request.isExpired === true ? HOUR_MS : auth.ttlMs, nowMs });
      registerSecret(token);
      return placement(token, queryName);
    },
  };
}

function fixedToken(token: string, request: TokenRequest, defaultIdentity: string): string {
  if (request.isExpired === true) throw new SkipCheck('an expired token needs minting: give --jwt-secret or --jwt-key instead of --token');
  if (request.as !== defaultIdentity) throw new SkipCheck(`identity '${request.as}' needs minting: give --jwt-secret or --jwt-key instead of --token (it stands for '${defaultIdentity}')`);
  return token;
}

function placement(token: string, queryName: string | undefined): TokenPlacement {
  return queryName === undefined ? { token } : { token, queryName };
}
