/**
 * The names of the profiles `ssekit serve` can mount, in mounting and banner order. Apart from
 * the factories (`profiles/index.ts`), so the CLI's help lists them without loading a profile.
 */
export const PROFILE_NAMES = ['admin-orders', 'salon', 'store', 'gateway'] as const;

/** One profile's name. */
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Whether `name` is one of the profiles. */
export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}
