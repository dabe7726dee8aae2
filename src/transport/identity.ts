/**
 * Who the clients are. The seeds limit streams per user (one admin stream in §1, five per user
 * in §5), so a fleet (bench's virtual users, publish's watchers) needs one identity per client:
 * a JWT is minted per client with its own subject (`vu-<n>` unless the claims say otherwise;
 * `{{vu}}` in any claim is the client's index), or a fixed token is shared by all — and then
 * the run says so, because a one-stream-per-user server will close or refuse the others.
 */
import { randomBytes } from 'node:crypto';
import { mintJwt, type TokenPlacement } from './auth.js';

/** Auth for virtual users, watchers or a publisher: a fixed token, or a JWT minted per user. */
export interface AuthPlan {
  /** A fixed bearer token (every user shares it). */
  readonly token?: string | undefined;
  /** HS256 secret for minted tokens. */
  readonly jwtSecret?: string | undefined;
  /** Or a PEM private key (RS256/ES256/EdDSA), from `--jwt-key`. */
  readonly privateKeyPem?: string | undefined;
  /** Claims; string values may use `{{vu}}` (the virtual user's index). */
  readonly claims?: Readonly<Record<string, unknown>> | undefined;
  /** Token lifetime, ms (default 1 h). */
  readonly ttlMs?: number | undefined;
  /** Query parameter name, when the token goes in the URL instead of `Authorization`. */
  readonly queryName?: string | undefined;
}

/** The subject a minted token gets when the claims name none: one per client. */
const DEFAULT_SUBJECT = 'vu-{{vu}}';

/** How identities are shared among the clients of a run. */
export type IdentityPolicy =
  | { readonly kind: 'none' }
  | { readonly kind: 'shared-token' }
  | { readonly kind: 'shared-subject'; readonly subject: string }
  | { readonly kind: 'per-client'; readonly subject: string };

/** Request credentials for one client: a query suffix or headers (and the placement itself, for producers). */
export interface Credentials {
  readonly token?: TokenPlacement | undefined;
  /** `?name=token` / `&name=token` to append to the path, or ''. */
  readonly querySuffix: (path: string) => string;
  readonly headers: Readonly<Record<string, string>>;
}

const NONE: Credentials = { querySuffix: () => '', headers: {} };

function isMinting(auth: AuthPlan): boolean {
  return auth.token === undefined && (auth.jwtSecret !== undefined || auth.privateKeyPem !== undefined || auth.claims !== undefined);
}

/** The identity policy of an auth plan. */
export function identityPolicyOf(auth: AuthPlan | undefined): IdentityPolicy {
  if (auth === undefined) return { kind: 'none' };
  if (auth.token !== undefined) return { kind: 'shared-token' };
  if (!isMinting(auth)) return { kind: 'none' };
  const sub = auth.claims?.['sub'];
  const subject = typeof sub === 'string' || typeof sub === 'number' ? String(sub) : DEFAULT_SUBJECT;
  const isTemplated = Object.values(auth.claims ?? {}).some((v) => JSON.stringify(v).includes('{{vu}}')) || subject === DEFAULT_SUBJECT;
  return isTemplated ? { kind: 'per-client', subject } : { kind: 'shared-subject', subject };
}

/** One line for the plan: `one identity per client (sub vu-0 … vu-199)`. */
export function describeIdentity(policy: IdentityPolicy, count: number, noun: string): string {
  switch (policy.kind) {
    case 'none':
      return 'no credentials';
    case 'shared-token':
      return `one shared token for all ${count} ${noun}`;
    case 'shared-subject':
      return count === 1 ? `sub ${policy.subject}` : `one identity for all ${count} ${noun} (sub ${policy.subject})`;
    case 'per-client': {
      const first = fillTemplate(policy.subject, 0) as string;
      const last = fillTemplate(policy.subject, Math.max(0, count - 1)) as string;
      return count <= 1 ? `sub ${first}` : `one identity per client (sub ${first} … ${last})`;
    }
  }
}

/** Credentials for client `vu`; a new `rotation` mints a new token (token-rotation churn). */
export async function credentialsFor(auth: AuthPlan | undefined, vu: number, rotation = 0): Promise<Credentials> {
  if (auth === undefined) return NONE;
  let token: string;
  if (auth.token !== undefined) token = auth.token;
  else if (isMinting(auth)) {
    const claims = fillTemplate({ sub: DEFAULT_SUBJECT, ...auth.claims }, vu) as Record<string, unknown>;
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
