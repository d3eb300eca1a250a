import { buildBlocks, toTimestamp, transactionId } from '../../../lib/ledger';
import type { Block, Transaction } from '../../../lib/ledger/types';
import type { LedgerStore } from '../../../lib/ports/ledger-store';

/** Chains of rejections for the audit tests, and a store whose block reads are watched. */
export const T0 = Date.UTC(2026, 10, 21, 6, 0, 0);

export function rejection(taskId: string): Transaction {
  return {
    transaction_id: transactionId(taskId, 'decision'),
    timestamp: toTimestamp(T0),
    task_id: taskId,
    vm_id: null,
    status: 'rejected',
    algorithm: 'audit',
    score: null,
    reason: 'no feasible VM',
    task_requirements: { cpu: 1 },
    vm_state_before: null,
    vm_state_after: null,
  };
}

export async function grow(store: LedgerStore, from: number, count: number): Promise<void> {
  const head = await store.readHead();
  const txs = Array.from({ length: count }, (_, i) => rejection(`t-${from + i}`));
  const blocks = buildBlocks(head, txs, { maxPerBlock: 2, timestamp: toTimestamp(T0) });
  const result = await store.append(head, {
    blocks,
    reservations: [],
    tasks: blocks.flatMap((b) =>
      b.transactions.map((tx) => ({
        record: {
          task_id: tx.task_id,
          status: 'rejected' as const,
          vm_id: null,
          block_height: b.height,
          transaction_id: tx.transaction_id,
          requirements: { cpu: 1 },
          deadline: T0 / 1000 + 3600,
          duration: 1,
          lease_expires_at: null,
          updated_at: T0,
        },
        expect: 'absent' as const,
      })),
    ),
  });
  if (!result.ok) throw new Error(result.detail);
}

/** The store with getBlocks counted and, optionally, one block altered on the way out. */
export function watched(store: LedgerStore, alter?: (b: Block) => Block) {
  const read: number[] = [];
  const proxy = new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (key !== 'getBlocks') return typeof value === 'function' ? value.bind(target) : value;
      return async (from: number, limit: number) => {
        const blocks: Block[] = await target.getBlocks(from, limit);
        read.push(...blocks.map((b) => b.height));
        return alter ? blocks.map(alter) : blocks;
      };
    },
  });
  return { store: proxy, read };
}
