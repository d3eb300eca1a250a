import { MemoryLedgerStore } from '../../lib/adapters/memory/memory-ledger-store';
import { ledgerStoreContract } from './ledger-store.case';

ledgerStoreContract('memory', async () => {
  const store = new MemoryLedgerStore();
  return { store, cleanup: () => store.close() };
});
