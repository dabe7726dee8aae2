/**
 * Credentials for stream and producer requests: a bearer token (from a flag, `SSEKIT_TOKEN` or
 * a file — the CLI resolves those), sent in `Authorization` or as a query parameter (CONTRACTS
 * §1 accepts `?token=`), or a JWT minted here with jose for testing backends like the seeds.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { UsageError } from '../core/errors.js';
import { DEV_JWT_SECRET } from '../core/dev-jwt.js';

/** How to mint a JWT. Exactly one of `secret` (HS256) or `privateKeyPem` (RS256/ES256/EdDSA). */
export interface MintJwtOptions {
  /** HS256 shared secret. Default: the dev secret `ssekit serve` accepts. */
  readonly secret?: string | undefined;
  /** PEM private key (PKCS#8 or PKCS#1/SEC1); the algorithm follows the key type. */
  readonly privateKeyPem?: string | undefined;
  /** Extra claims, merged under `role`/`sub`. */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
  readonly role?: string | undefined;
  readonly sub?: string | undefined;
  /** Lifetime in ms (default 1 h). */
  readonly ttlMs?: number | undefined;
  /** Clock, for tests (ms since epoch). */
  readonly nowMs?: number | undefined;
}

const DEFAULT_TTL_MS = 3_600_000;

/** Mints a signed JWT. Throws `UsageError` for an unusable key. */
export async function mintJwt(options: MintJwtOptions): Promise<string> {
  const claims: Record<string, unknown> = { ...options.claims };
  if (options.role !== undefined) claims['role'] = options.role;
  if (options.sub !== undefined) claims['sub'] = options.sub;
  const nowSeconds = Math.floor((options.nowMs ?? Date.now()) / 1000);
  const ttlSeconds = Math.max(1, Math.round((options.ttlMs ?? DEFAULT_TTL_MS) / 1000));
  let key: KeyObject | Uint8Array;
  let alg: string;
  if (options.privateKeyPem !== undefined) {
    ({ key, alg } = importPrivateKey(options.privateKeyPem));
  } else {
    if (options.secret === '') throw new UsageError('--jwt-secret must not be empty', { hint: 'is the variable holding it set? (ssekit serve prints its dev secret at start)' });
    key = new TextEncoder().encode(options.secret ?? DEV_JWT_SECRET);
    alg = 'HS256';
  }
  if (options.ttlMs !== undefined && options.ttlMs < 1000) throw new UsageError('--ttl must be at least 1s');
  const jwt = new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).setIssuedAt(nowSeconds).setExpirationTime(nowSeconds + ttlSeconds);
  if (typeof claims['sub'] === 'string') jwt.setSubject(claims['sub']);
  return jwt.sign(key);
}

function importPrivateKey(pem: string): { key: KeyObject; alg: string } {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new UsageError('--jwt-key: not a PEM private key', { cause: error, hint: 'pass a PKCS#8, PKCS#1 (RSA) or SEC1 (EC) private key file' });
  }
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { key, alg: 'RS256' };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1' || curve === 'P-256') return { key, alg: 'ES256' };
      if (curve === 'secp384r1') return { key, alg: 'ES384' };
      throw new UsageError(`--jwt-key: EC curve ${curve ?? 'unknown'} is not supported`, { hint: 'use P-256 (ES256) or P-384' });
    }
    case 'ed25519':
      return { key, alg: 'EdDSA' };
    default:
      throw new UsageError(`--jwt-key: ${key.asymmetricKeyType ?? 'unknown'} keys are not supported`, { hint: 'use an RSA, EC P-256 or Ed25519 key' });
  }
}

/** A token and where it goes. `queryName` set: `?<queryName>=<token>`; otherwise `Authorization: Bearer`. */
export interface TokenPlacement {
  readonly token: string;
  readonly queryName?: string | undefined;
}

/**
 * Returns the URL and headers of a request carrying the token, or unchanged ones when the
 * request goes to another origin than `credentialOrigin` (credentials never cross origins).
 */
export function applyToken(url: URL, headers: Record<string, string>, placement: TokenPlacement | undefined, credentialOrigin: string): { url: URL; headers: Record<string, string> } {
  if (placement === undefined || url.origin !== credentialOrigin) return { url, headers };
  if (placement.queryName !== undefined) {
    const withToken = new URL(url.href);
    withToken.searchParams.set(placement.queryName, placement.token);
    return { url: withToken, headers };
  }
  return { url, headers: { ...headers, authorization: `Bearer ${placement.token}` } };
}
