import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../../lib/adapters/sqlite';
import { verifiableBlocks } from '../../../lib/engine/verifiable-blocks';
import { verifyChain } from '../../../lib/ledger/verify';
import { inProcessRuntime } from '../helpers/in-process-runtime';
import { runCli, tempDir } from '../helpers/server';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const input = (id: string) => ({ id, cpu: 10, mem: 10, deadline: 1_900_000_000, duration: 600 });

/** A runtime whose ledger holds `blocks` blocks after genesis, one task each, built by the engine. */
async function ledger(blocks: number, config: Record<string, unknown> = {}) {
  const parts = inProcessRuntime(config);
  close = () => parts.store.close();
  for (let i = 0; i < blocks; i++) await parts.engine.schedule(parts.rt.intake.parse([input(`v-${i}`)]));
  const head = await parts.store.readHead();
  expect(head.height).toBe(blocks);
  return { ...parts, head };
}

type Column = 'header' | 'transactions';

function readColumn(store: SqliteLedgerStore, height: number, column: Column): string {
  const row = store.db.prepare(`SELECT ${column} AS text FROM blocks WHERE height = ?`).get(height) as {
    text: string;
  };
  return row.text;
}

function writeColumn(store: SqliteLedgerStore, height: number, column: Column, text: string): void {
  store.db.prepare(`UPDATE blocks SET ${column} = ? WHERE height = ?`).run(text, height);
}

describe('verifying a SQLite ledger with a row that cannot be parsed', () => {
  it('reports every seeded truncation or control byte as malformed at the row it touched', async () => {
    const { store, head } = await ledger(12);
    const mutation = fc.record({
      height: fc.integer({ min: 0, max: head.height }),
      column: fc.constantFrom<Column>('header', 'transactions'),
      // A prefix of a JSON object, or any JSON text with a raw U+0001 in it, is never JSON.
      kind: fc.constantFrom('truncate', 'control'),
      at: fc.nat(),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ height, column, kind, at }) => {
        const original = readColumn(store, height, column);
        const position = at % original.length;
        const broken =
          kind === 'truncate'
            ? original.slice(0, position)
            : `${original.slice(0, position)}\u0001${original.slice(position)}`;
        writeColumn(store, height, column, broken);
        try {
          const report = await verifyChain(verifiableBlocks(store, head.height, 4), { expectedHead: head });
          expect(report).toMatchObject({ valid: false, problem: 'malformed', first_bad_height: height });
          expect(report.detail).toContain(`stored block ${height} cannot be parsed`);
        } finally {
          writeColumn(store, height, column, original);
        }
      }),
      { numRuns: 150, seed: 5 },
    );
    expect(await verifyChain(verifiableBlocks(store, head.height, 4), { expectedHead: head })).toMatchObject({
      valid: true,
    });
  });

  it('POST /ledger/verify answers 200 naming the height instead of a 500', async () => {
    const { app, store } = await ledger(5);
    writeColumn(store, 3, 'transactions', '[{"task_id":');
    const res = await app.request('/ledger/verify', { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      valid: false,
      problem: 'malformed',
      first_bad_height: 3,
      blocks_checked: 3,
    });
  });

  it('bcs ledger verify --db exits 1 naming the height', async () => {
    const dir = await tempDir();
    const path = join(dir, 'ledger.db');
    const { store } = await ledger(4);
    await store.db.backup(path);
    const copy = new SqliteLedgerStore(path);
    writeColumn(copy, 2, 'header', '{"height":2,');
    await copy.close();

    const result = await runCli(['ledger', 'verify', '--db', path, '--json']);
    expect(result.code, result.stderr).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      problem: 'malformed',
      first_bad_height: 2,
    });
  });
});
