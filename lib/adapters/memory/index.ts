export { MemoryLedgerStore } from './memory-ledger-store';
export { MemoryTaskAcceptances } from './memory-task-acceptances';
