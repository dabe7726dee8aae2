/**
 * The development JWT secret shared by `ssekit serve` (which verifies with it unless given
 * `--jwt-secret`) and `ssekit token` (which signs with it unless given one), so that the two
 * work together out of the box. It is printed by `serve` at start-up: never use it anywhere real.
 */
export const DEV_JWT_SECRET = 'ssekit-dev-secret-change-me';

/**
 * Claims the reference backend reads (README "Tokens"): `sub` (user id), `role`
 * (`admin` | `store` | `customer` | `superadmin`), and per profile `salon_id`, `store_id`,
 * `channels` (gateway: the channels a user may open; absent means all).
 */
export interface SsekitClaims {
  readonly sub?: string;
  readonly role?: string;
  readonly salon_id?: number | string;
  readonly store_id?: number | string;
  readonly channels?: readonly string[];
  readonly [claim: string]: unknown;
}
