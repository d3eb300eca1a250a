export * from './audit-checkpoint-store';
export * from './clock';
export * from './digest-signer';
export * from './fleet-source';
export * from './ledger-store';
export * from './task-acceptances';
export * from './task-queue';
export * from './witness';
