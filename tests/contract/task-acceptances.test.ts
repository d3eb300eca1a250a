import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTaskAcceptances } from '../../lib/adapters/memory/memory-task-acceptances';
import { SqliteLedgerStore } from '../../lib/adapters/sqlite/sqlite-ledger-store';
import { SqliteTaskAcceptances } from '../../lib/adapters/sqlite/sqlite-task-acceptances';
import { taskAcceptancesContract } from './task-acceptances.case';

taskAcceptancesContract('memory', async () => ({
  acceptances: new MemoryTaskAcceptances(),
  cleanup: async () => {},
}));

taskAcceptancesContract('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'bcs-acceptances-'));
  const store = new SqliteLedgerStore(join(dir, 'ledger.db'));
  return {
    acceptances: new SqliteTaskAcceptances(store.db),
    cleanup: async () => {
      store.db.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
