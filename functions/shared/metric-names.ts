/** Metrics the verify function publishes and the stack's alarm reads. */
export const VERIFY_METRICS = { chainValid: 'ChainValid', chainHeight: 'ChainHeight' } as const;

/** Metrics of the log publisher (functions/publish-log.ts); the no-cosignature alarm reads Cosignatures. */
export const TLOG_METRICS = {
  treeSize: 'LogTreeSize',
  cosignatures: 'WitnessCosignatures',
  witnessFailures: 'WitnessFailures',
} as const;
