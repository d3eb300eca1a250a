/** Metrics the verify function publishes and the stack's alarm reads. */
export const VERIFY_METRICS = {
  chainValid: 'ChainValid',
  chainHeight: 'ChainHeight',
  /** Blocks between the verified checkpoint and the head (an incremental run that is catching up). */
  auditBehind: 'AuditBehindBlocks',
} as const;

/** Metrics of the log publisher (functions/publish-log.ts); the no-cosignature alarm reads Cosignatures. */
export const TLOG_METRICS = {
  treeSize: 'LogTreeSize',
  cosignatures: 'WitnessCosignatures',
  witnessFailures: 'WitnessFailures',
} as const;
