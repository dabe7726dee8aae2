/**
 * Virtual users' credentials. The seeds limit streams per user (one admin stream in §1, five
 * per user in §5), so a fleet needs one identity per virtual user: claims are templated with
 * `{{vu}}` (the user's global index) and a JWT is minted per user, or a fixed token is shared.
 */
import { randomBytes } from 'node:crypto';
import { mintJwt, type TokenPlacement } from '../transport/auth.js';
import type { AuthPlan } from './scenario.js';

/** Request credentials for one user: a query suffix or headers (and the placement itself, for producers). */
export interface Credentials {
  readonly token?: TokenPlacement | undefined;
  /** `?name=token` / `&name=token` to append to the path, or ''. */
  readonly querySuffix: (path: string) => string;
  readonly headers: Readonly<Record<string, string>>;
}

const NONE: Credentials = { querySuffix: () => '', headers: {} };

/** Credentials for virtual user `vu`; a new `rotation` mints a new token (token-rotation churn). */
export async function credentialsFor(auth: AuthPlan | undefined, vu: number, rotation = 0): Promise<Credentials> {
  if (auth === undefined) return NONE;
  let token: string;
  if (auth.token !== undefined) token = auth.token;
  else if (auth.jwtSecret !== undefined || auth.privateKeyPem !== undefined || auth.claims !== undefined) {
    const claims = fillTemplate(auth.claims ?? {}, vu) as Record<string, unknown>;
    // A fresh jti makes a rotated token differ from the previous one even within one second.
    if (rotation > 0) claims['jti'] = randomBytes(8).toString('hex');
    token = await mintJwt({ secret: auth.jwtSecret, privateKeyPem: auth.privateKeyPem, claims, ttlMs: auth.ttlMs });
  } else return NONE;
  if (auth.queryName !== undefined) {
    const pair = `${encodeURIComponent(auth.queryName)}=${encodeURIComponent(token)}`;
    return { token: { token, queryName: auth.queryName }, querySuffix: (path) => `${path.includes('?') ? '&' : '?'}${pair}`, headers: {} };
  }
  return { token: { token }, querySuffix: () => '', headers: { authorization: `Bearer ${token}` } };
}

/** Replaces `{{vu}}` in every string of a claims tree. */
export function fillTemplate(value: unknown, vu: number): unknown {
  if (typeof value === 'string') return value.includes('{{vu}}') ? value.split('{{vu}}').join(String(vu)) : value;
  if (Array.isArray(value)) return value.map((v) => fillTemplate(v, vu));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillTemplate(v, vu)]));
  return value;
}
