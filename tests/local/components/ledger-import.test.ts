import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteLedgerStore } from '../../../lib/adapters/sqlite';
import { LedgerReader } from '../../../lib/engine/ledger-reader';
import { verifiableBlocks } from '../../../lib/engine/verifiable-blocks';
import { exportJsonl } from '../../../lib/ledger/jsonl';
import { inProcessRuntime } from '../helpers/in-process-runtime';
import { runCli, tempDir } from '../helpers/server';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

const input = (id: string) => ({ id, cpu: 10, mem: 10, deadline: 1_900_000_000, duration: 600 });

/** An export of a chain the engine built: genesis and `blocks` blocks of one task each. */
async function exported(blocks: number): Promise<{ lines: string[]; store: SqliteLedgerStore }> {
  const parts = inProcessRuntime({});
  close = () => parts.store.close();
  for (let i = 0; i < blocks; i++) await parts.engine.schedule(parts.rt.intake.parse([input(`i-${i}`)]));
  const head = await parts.store.readHead();
  const lines: string[] = [];
  for await (const line of exportJsonl(verifiableBlocks(parts.store, head.height))) lines.push(line);
  return { lines, store: parts.store as SqliteLedgerStore };
}

describe('bcs ledger import', { timeout: 120_000 }, () => {
  it('imports an export into a new SQLite ledger that verifies and answers the same digest and proofs', async () => {
    const { lines, store } = await exported(12);
    const dir = await tempDir();
    const file = join(dir, 'ledger.jsonl');
    writeFileSync(file, lines.join(''));
    const db = join(dir, 'imported.db');
    const result = await runCli(['ledger', 'import', '--export', file, '--db', db, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const original = await new LedgerReader(store).digest();
    expect(JSON.parse(result.stdout)).toMatchObject({ height: 12, blocks: 13, digest: original });
    const imported = new SqliteLedgerStore(db);
    try {
      const reader = new LedgerReader(imported);
      expect(await reader.digest()).toEqual(original);
      const tx = JSON.parse(lines[5]!).transactions[0].transaction_id as string;
      expect((await reader.transaction(tx))?.proof).toEqual(
        (await new LedgerReader(store).transaction(tx))?.proof,
      );
      expect(await reader.consistencyBetween(4, 9)).toEqual(
        await new LedgerReader(store).consistencyBetween(4, 9),
      );
    } finally {
      await imported.close();
    }
    expect((await runCli(['ledger', 'verify', '--db', db])).code).toBe(0);
    // An existing database is never touched.
    const again = await runCli(['ledger', 'import', '--export', file, '--db', db]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists/);
  });

  it.each([
    [
      'a field that fails the schema',
      (block: Record<string, unknown>) => ({
        ...block,
        transactions: (block.transactions as Record<string, unknown>[]).map((t) => ({
          ...t,
          status: 'bogus',
        })),
      }),
      /line 6: transactions\.0\.status/,
    ],
    [
      'a block whose contents do not match its Merkle root',
      (block: Record<string, unknown>) => ({
        ...block,
        transactions: (block.transactions as Record<string, unknown>[]).map((t) => ({
          ...t,
          reason: 'forged',
        })),
      }),
      /line 6: block 5: wrong-merkle-root/,
    ],
  ])('refuses %s, naming the line and field, and writes nothing', async (_name, change, message) => {
    const { lines } = await exported(8);
    const dir = await tempDir();
    const file = join(dir, 'ledger.jsonl');
    const bad = [...lines];
    bad[5] = `${JSON.stringify(change(JSON.parse(bad[5]!)))}\n`;
    writeFileSync(file, bad.join(''));
    const db = join(dir, 'imported.db');
    const result = await runCli(['ledger', 'import', '--export', file, '--db', db]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/nothing written/);
    expect(existsSync(db)).toBe(false);
    expect(readdirSync(dir)).toEqual(['ledger.jsonl']);
  });
});
