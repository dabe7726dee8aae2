/**
 * Ready-to-use tokens for the start-up banner (issue 3 "prints ... a token to try"), signed with
 * the public dev secret. One per role the profiles check, with the ids the profiles read:
 * `salon_id` (CONTRACTS §3), `store_id` (§4).
 */
import { SignJWT } from 'jose';
import type { SsekitClaims } from '../core/dev-jwt.js';

/** A minted token and the claims it carries. */
export interface DevToken {
  readonly label: string;
  readonly claims: SsekitClaims;
  readonly token: string;
}

const DEV_CLAIMS: ReadonlyArray<{ readonly label: string; readonly claims: SsekitClaims }> = [
  { label: 'admin', claims: { sub: '1', role: 'admin', salon_id: 1, store_id: 1 } },
  { label: 'customer', claims: { sub: '501', role: 'customer' } },
  { label: 'superadmin', claims: { sub: '0', role: 'superadmin' } },
];

/** Mints HS256 tokens valid for `ttlSeconds` (default 24 h). */
export async function mintDevTokens(secret: string, ttlSeconds = 24 * 3600): Promise<DevToken[]> {
  const key = new TextEncoder().encode(secret);
  return Promise.all(
    DEV_CLAIMS.map(async ({ label, claims }) => ({
      label,
      claims,
      token: await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime(`${ttlSeconds}s`).sign(key),
    })),
  );
}
