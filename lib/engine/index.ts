export { type BackoffOptions, backoffDelay } from './backoff';
export {
  applyReservationChange,
  checkCommitShape,
  headAfter,
  MalformedCommitError,
  netReservationChanges,
} from './commit';
export { SchedulingEngine, type SchedulingEngineOptions } from './engine';
export { AppendRetriesExhausted } from './errors';
export { withLedgerReservations } from './fleet-merge';
export {
  LedgerReader,
  type LedgerReaderOptions,
  type LedgerSummary,
  type TransactionLookup,
  type VmLedgerStats,
} from './ledger-reader';
export {
  type AcceptDeps,
  type AcceptOutcome,
  acceptTasks,
  claimsOf,
  readTaskStatus,
  type SendOutcome,
  TaskConflictError,
  type TaskStatusView,
  taskBodySha256,
} from './task-intake';
export {
  blockHeights,
  closingTransaction,
  decisionRecord,
  decisionsToTransactions,
  reservationChange,
} from './transactions';
export type { CloseOutcome, DeferredTask, Engine, EngineOptions, ScheduleOutcome } from './types';
