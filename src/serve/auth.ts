/**
 * Token verification for the reference backend (issue 3 "Auth"): jose, HS256 with a shared
 * secret (the dev secret by default) or RS256/ES256/EdDSA with a PEM public key. Only the
 * configured algorithms are accepted, so `alg: none` and algorithm-confusion tokens fail.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import type { SsekitClaims } from '../core/dev-jwt.js';
import { UsageError } from '../core/errors.js';
import { HttpError } from './http.js';

/** How tokens are checked. */
export type JwtKeyOptions = { readonly secret: string } | { readonly publicKeyPem: string };

/** Verified claims plus the user id as a string (for logs, registries, limits). */
export interface Principal {
  readonly claims: SsekitClaims;
  /** `sub` (or `user_id`, `id`), stringified; `'anonymous'` if the token has none. */
  readonly userId: string;
  /** `role` claim, `''` if absent (and then every role check fails). */
  readonly role: string;
}

/** Verifies a raw token; throws HttpError 401 for anything not valid. */
export type TokenVerifier = (token: string) => Promise<Principal>;

/** Verification policy beyond the key. */
export interface VerifyPolicy {
  /** Accept tokens without an `exp` claim (issue 14: refused by default, a token must expire). */
  readonly allowNoExp?: boolean | undefined;
}

/** Builds a verifier from the key options. A bad PEM is a UsageError (exit 2) at start-up. */
export function createTokenVerifier(options: JwtKeyOptions, policy: VerifyPolicy = {}): TokenVerifier {
  let key: Uint8Array | KeyObject;
  let algorithms: string[];
  if ('secret' in options) {
    key = new TextEncoder().encode(options.secret);
    algorithms = ['HS256'];
  } else {
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(options.publicKeyPem);
    } catch (error) {
      throw new UsageError('--jwt-public-key: not a PEM public key', { cause: error, hint: 'give an SPKI PEM file (-----BEGIN PUBLIC KEY-----)' });
    }
    key = publicKey;
    algorithms = algorithmsFor(publicKey);
  }
  const requiredClaims = policy.allowNoExp === true ? [] : ['exp'];
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, key, { algorithms, clockTolerance: 5, requiredClaims });
      const claims = payload as SsekitClaims;
      const rawId = claims.sub ?? claims['user_id'] ?? claims['id'];
      return {
        claims,
        userId: rawId === undefined || rawId === null ? 'anonymous' : String(rawId),
        role: typeof claims.role === 'string' ? claims.role : '',
      };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new HttpError(401, 'token_expired', 'token expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.claim === 'exp') throw new HttpError(401, 'token_no_exp', 'token has no expiry (exp claim)');
      throw new HttpError(401, 'invalid_token', 'invalid token');
    }
  };
}

function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return ['ES384'];
      if (curve === 'secp521r1') return ['ES512'];
      return ['ES256'];
    }
    case 'ed25519':
      return ['EdDSA'];
    default:
      throw new UsageError(`--jwt-public-key: unsupported key type '${key.asymmetricKeyType ?? 'unknown'}'`, { hint: 'use an RSA, EC (P-256/384/521) or Ed25519 public key' });
  }
}

/**
 * The token of a request: `Authorization: Bearer <jwt>` first, else `?token=` (CONTRACTS §1
 * allows a query parameter because browsers' EventSource cannot set headers).
 */
export function extractToken(authorization: string | undefined, url: URL): string | undefined {
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const query = url.searchParams.get('token');
  return query === null || query === '' ? undefined : query;
}

/** 403 unless the principal's role is one of `roles`. */
export function requireRole(principal: Principal, roles: readonly string[]): void {
  if (!roles.includes(principal.role)) {
    throw new HttpError(403, 'forbidden', `role '${principal.role || '(none)'}' is not allowed here (needs ${roles.join(' or ')})`);
  }
}
