export * from './clock';
export * from './digest-signer';
export * from './fleet-source';
export * from './ledger-store';
export * from './object-store';
export * from './task-queue';
export * from './witness';
