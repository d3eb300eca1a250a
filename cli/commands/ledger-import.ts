import { access, rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { SqliteLedgerStore } from '../../lib/adapters/sqlite';
import { importChain } from '../../lib/engine/import-chain';
import { ValidationError } from '../../lib/errors';
import { readLines } from '../../lib/ledger/jsonl';
import { CliExit, EXIT_NEGATIVE, EXIT_USAGE } from '../exit';

interface ImportFlags {
  export: string;
  db: string;
  json?: boolean;
}

/**
 * `bcs ledger import --export FILE --db FILE`: a JSON Lines export into a new SQLite ledger, verified as it
 * is read (lib/engine/import-chain.ts). All or nothing: the database is built in a temporary file beside
 * the target and renamed to it only once every line verified, so a bad line leaves no file behind.
 */
export function addImportCommand(ledger: Command): void {
  ledger
    .command('import')
    .description(
      'read a JSON Lines export into a new ledger.db, verifying every block as it is read (for offline audits and benchmarks; task records and reservations are not imported). Exit 1 naming the line and field if the export is bad, and nothing is written',
    )
    .requiredOption('--export <file>', 'the JSON Lines export to read')
    .requiredOption('--db <file>', 'the ledger database to create (must not exist)')
    .option('--json', 'print the result as JSON')
    .action(async (flags: ImportFlags) => {
      if (await exists(flags.db))
        throw new CliExit(EXIT_USAGE, `${flags.db} exists: import creates a new ledger database`);
      if (!(await exists(flags.export)))
        throw new CliExit(EXIT_USAGE, `cannot read ${flags.export}: no such file`);
      const temporary = `${flags.db}.importing-${process.pid}`;
      let store: SqliteLedgerStore | null = null;
      try {
        const imported = await importChain(readLines(flags.export), async (genesis) => {
          store = new SqliteLedgerStore(temporary, { genesis, synchronous: 'NORMAL' });
          return store;
        });
        await (store as SqliteLedgerStore | null)?.close();
        store = null;
        await rename(temporary, flags.db);
        if (flags.json) console.log(JSON.stringify(imported, null, 2));
        else
          console.log(
            `imported ${imported.blocks} blocks (${imported.transactions} transactions) into ${flags.db}; head ${imported.height} ${imported.digest.head_hash}, blocks_root ${imported.digest.blocks_root}`,
          );
      } catch (error) {
        await (store as SqliteLedgerStore | null)?.close();
        await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${temporary}${suffix}`, { force: true })));
        if (error instanceof ValidationError) {
          throw new CliExit(EXIT_NEGATIVE, `import refused, nothing written: ${error.message}`);
        }
        throw error;
      }
    });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
