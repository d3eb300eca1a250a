/** Metrics the verify function publishes and the stack's alarm reads. */
export const VERIFY_METRICS = { chainValid: 'ChainValid', chainHeight: 'ChainHeight' } as const;
