/**
 * The profile table: name → factory, in mounting and banner order. A new profile (the gateway,
 * CONTRACTS §5) is one import and one line here, and its name in `../profile-names.ts`; see
 * `../profile.ts` for the interface.
 */
import type { ProfileFactory } from '../profile.js';
import type { ProfileName } from '../profile-names.js';
import { createAdminOrdersProfile } from './admin-orders.js';
import { createGatewayProfile } from './gateway.js';
import { createSalonProfile } from './salon.js';
import { createStoreProfile } from './store.js';

/** Every profile `ssekit serve` can mount; all are mounted when `--profile` is not given. */
export const PROFILE_FACTORIES: Readonly<Record<string, ProfileFactory>> = {
  'admin-orders': createAdminOrdersProfile,
  salon: createSalonProfile,
  store: createStoreProfile,
  gateway: createGatewayProfile,
} satisfies Record<ProfileName, ProfileFactory>;

