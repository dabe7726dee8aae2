/** How a churning client leaves and comes back: FIN, RST, a new token, or a second stream beside the first (seed 001). */
export const CHURN_MODES = ['graceful', 'abrupt', 'token-rotation', 'duplicate'] as const;
export type ChurnMode = (typeof CHURN_MODES)[number];
