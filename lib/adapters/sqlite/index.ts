export { openLedgerDatabase, SCHEMA_VERSION, type SqliteOptions, type Synchronous } from './schema';
export { SqliteLedgerStore, type SqliteLedgerStoreOptions } from './sqlite-ledger-store';
export { type DeadLetter, SqliteTaskQueue, type SqliteTaskQueueOptions } from './sqlite-task-queue';
