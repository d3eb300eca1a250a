export { openLedgerDatabase, SCHEMA_VERSION, type SqliteOptions, type Synchronous } from './schema';
export { SqliteLedgerStore, type SqliteLedgerStoreOptions } from './sqlite-ledger-store';
export { SqliteTaskAcceptances } from './sqlite-task-acceptances';
export { type DeadLetter, SqliteTaskQueue, type SqliteTaskQueueOptions } from './sqlite-task-queue';
