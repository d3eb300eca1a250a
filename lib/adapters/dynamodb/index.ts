export { MalformedCommitError } from '../../engine/commit';
export { AUDIT_CHECKPOINT_KEY, auditCheckpointItem } from './audit-checkpoint-item';
export {
  commitItemCount,
  MAX_ITEM_BYTES,
  MAX_LEDGER_ITEMS,
  MAX_TRANSACTION_BYTES,
  MAX_TRANSACTION_ITEMS,
  MERKLE_ITEMS_PER_COMMIT,
  maxTasksPerCommit,
  maxTasksPerCommitOnFleet,
} from './commit-plan';
export { DynamoDbLedgerStore, type DynamoDbLedgerStoreOptions } from './dynamodb-ledger-store';
export { CommitTooLargeError } from './errors';
export * from './keys';
export { DynamoDbTaskAcceptances, type DynamoDbTaskAcceptancesOptions } from './task-acceptances';
