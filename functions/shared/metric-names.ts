/** Metrics the verify function publishes and the stack's alarm reads. */
export const VERIFY_METRICS = {
  chainValid: 'ChainValid',
  chainHeight: 'ChainHeight',
  /** Blocks between the verified checkpoint and the head (an incremental run that is catching up). */
  auditBehind: 'AuditBehindBlocks',
} as const;
