export * from './clock';
export * from './fleet-source';
export * from './ledger-store';
export * from './task-queue';
