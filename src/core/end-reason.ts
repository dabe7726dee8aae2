/** How a measured run ended, in every result (bench, publish, merged shards): one list, one type. */
export const END_REASONS = ['passed', 'failed', 'interrupted'] as const;
export type EndReason = (typeof END_REASONS)[number];
