/** The gateway profile (CONTRACTS §5): placeholder until its implementation lands. */
import type { ProfileFactory } from '../profile.js';

/** Builds the gateway profile. */
export const createGatewayProfile: ProfileFactory = () => ({ name: 'gateway', contract: '§5', routes: [] });
