import { MemoryLedgerStore } from '../../lib/adapters/memory/memory-ledger-store';
import { ledgerStoreContract } from './ledger-store.case';
import { merkleStateContract } from './merkle-state.case';

ledgerStoreContract('memory', async () => {
  const store = new MemoryLedgerStore();
  return { store, cleanup: () => store.close() };
});

merkleStateContract('memory', async ({ tileHeight }) => {
  const store = new MemoryLedgerStore(undefined, tileHeight === undefined ? {} : { tileHeight });
  return { store, cleanup: () => store.close() };
});
