import { describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { LedgerReader } from '../../../lib/engine/ledger-reader';
import {
  buildBlocks,
  toTimestamp,
  transactionId,
  verifyDigestConsistency,
  verifyTransactionProof,
} from '../../../lib/ledger';
import type { Transaction } from '../../../lib/ledger/types';
import type { LedgerStore } from '../../../lib/ports/ledger-store';

const T0 = Date.UTC(2026, 10, 21, 6, 0, 0);

function rejection(taskId: string, at: number): Transaction {
  return {
    transaction_id: transactionId(taskId, 'decision'),
    timestamp: toTimestamp(at),
    task_id: taskId,
    vm_id: null,
    status: 'rejected',
    algorithm: 'scale',
    score: null,
    reason: 'no feasible VM',
    task_requirements: { cpu: 1 },
    vm_state_before: null,
    vm_state_after: null,
  };
}

/** A memory ledger of `blocks` blocks after genesis, one rejection each. */
async function ledgerOf(blocks: number): Promise<MemoryLedgerStore> {
  const store = new MemoryLedgerStore();
  for (let done = 0; done < blocks; done += 200) {
    const head = await store.readHead();
    const txs = Array.from({ length: Math.min(200, blocks - done) }, (_, i) =>
      rejection(`t-${done + i}`, T0 + done + i),
    );
    const built = buildBlocks(head, txs, { maxPerBlock: 1, timestamp: toTimestamp(T0 + done) });
    const result = await store.append(head, {
      blocks: built,
      reservations: [],
      tasks: built.map((b) => ({
        record: {
          task_id: b.transactions[0]!.task_id,
          status: 'rejected' as const,
          vm_id: null,
          block_height: b.height,
          transaction_id: b.transactions[0]!.transaction_id,
          requirements: { cpu: 1 },
          deadline: T0 / 1000 + 3600,
          duration: 1,
          lease_expires_at: null,
          updated_at: T0,
        },
        expect: 'absent' as const,
      })),
    });
    if (!result.ok) throw new Error(result.detail);
  }
  return store;
}

/** Counts store calls by method (and blocks returned by getBlocks, tiles by readTiles). */
function counted(store: LedgerStore) {
  const calls: Record<string, number> = {};
  const proxy = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls[String(key)] = (calls[String(key)] ?? 0) + 1;
        if (key === 'readTiles') calls.tiles = (calls.tiles ?? 0) + (args[0] as unknown[]).length;
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

describe('LedgerReader on a store that keeps the Merkle state', { timeout: 120_000 }, () => {
  it('answers a cold digest, summary, proofs and consistencyBetween with the same reads at 100 and 20,000 blocks (tiles: O(log n))', async () => {
    const reads: Record<string, number>[] = [];
    for (const height of [100, 20_000]) {
      const base = await ledgerOf(height);
      const { store, calls } = counted(base);
      const reader = new LedgerReader(store);
      const digest = await reader.digest();
      await reader.summary();
      const found = await reader.transaction(transactionId(`t-${height - 50}`, 'decision'));
      expect(verifyTransactionProof(found!.proof, digest)).toBe(true);
      const consistency = await reader.consistency(Math.floor(height / 3));
      expect(
        verifyDigestConsistency(
          {
            ...digest,
            height: Math.floor(height / 3) - 1,
            tree_size: Math.floor(height / 3),
            blocks_root: consistency.old_blocks_root,
            transaction_count: 0,
            head_hash: (await base.getBlock(Math.floor(height / 3) - 1))!.block_hash,
          },
          consistency.digest,
          consistency.proof,
        ),
      ).toBe(true);
      const between = await reader.consistencyBetween(Math.floor(height / 7), Math.floor(height / 2));
      expect(verifyDigestConsistency(between.from, between.to, between.proof)).toBe(true);
      expect(between.from.tree_size).toBe(Math.floor(height / 7));
      expect(calls.getBlocks ?? 0).toBe(0);
      reads.push(calls);
    }
    const [small, large] = reads;
    // Not one block replayed; the same number of calls of every kind except tiles, which grow by level.
    const { tiles: smallTiles, ...smallCalls } = small!;
    const { tiles: largeTiles, ...largeCalls } = large!;
    expect(largeCalls).toEqual(smallCalls);
    expect(largeTiles).toBeLessThanOrEqual(2 * (3 * 2 * 2 + 3));
    expect(smallTiles).toBeGreaterThan(0);
  });
});
