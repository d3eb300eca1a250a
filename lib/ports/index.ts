export * from './clock';
export * from './digest-signer';
export * from './fleet-source';
export * from './ledger-store';
export * from './signed-digest-log';
export * from './task-queue';
