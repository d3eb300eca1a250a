import { describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { buildBlocks, computeDigest, GENESIS, transactionId } from '../../../lib/ledger';
import type { Block, Transaction, TransactionStatus } from '../../../lib/ledger/types';
import { ChainTracker } from '../../../runtime/chain-tracker';

const TIME = '2026-11-21T00:00:00.000Z';

function tx(task: string, vm: string | null, status: TransactionStatus): Transaction {
  return {
    transaction_id: transactionId(
      task,
      status === 'assigned' || status === 'rejected' ? 'decision' : 'close',
    ),
    timestamp: TIME,
    task_id: task,
    vm_id: vm,
    status,
    algorithm: 'best-fit',
    score: null,
    reason: 'test',
    task_requirements: { cpu: 1 },
    vm_state_before: null,
    vm_state_after: null,
  };
}

/** Genesis plus blocks of two transactions each. */
function chain(transactions: Transaction[]): Block[] {
  const blocks = buildBlocks({ height: 0, hash: GENESIS.block_hash }, transactions, {
    maxPerBlock: 2,
    timestamp: TIME,
  });
  return [GENESIS as Block, ...blocks];
}

const transactions = [
  tx('a', 'vm-1', 'assigned'),
  tx('b', 'vm-2', 'assigned'),
  tx('c', null, 'rejected'),
  tx('a', 'vm-1', 'completed'),
  tx('b', 'vm-2', 'expired'),
];

describe('ChainTracker', () => {
  it('counts per VM and gives the same digest as computing it over the whole chain', () => {
    const blocks = chain(transactions);
    const tracker = new ChainTracker();
    for (const b of blocks) tracker.add(b);
    expect(tracker.height).toBe(blocks.length - 1);
    expect(tracker.transactionCount).toBe(5);
    expect(tracker.blockHashes).toEqual(blocks.map((b) => b.block_hash));
    expect(tracker.digest()).toEqual(computeDigest(blocks, blocks.at(-1)!.timestamp));
    expect(tracker.vmCounts()).toEqual([
      ['vm-1', { assignments: 1, rejections: 0, completed: 1, expired: 0 }],
      ['vm-2', { assignments: 1, rejections: 0, completed: 0, expired: 1 }],
    ]);
  });

  it('ignores a block that is not the next one, and catches up from the store', async () => {
    const blocks = chain(transactions);
    const store = new MemoryLedgerStore();
    for (const block of blocks.slice(1)) {
      const head = await store.readHead();
      const result = await store.append(head, { blocks: [block], reservations: [], tasks: [] });
      expect(result.ok).toBe(true);
    }
    const tracker = new ChainTracker();
    tracker.add(blocks[0]!);
    tracker.add(blocks[2]!); // a gap: ignored
    expect(tracker.height).toBe(0);
    await tracker.catchUp(store, 2);
    expect(tracker.blockHashes).toEqual(blocks.map((b) => b.block_hash));
    tracker.add(blocks[1]!); // already counted: ignored
    expect(tracker.transactionCount).toBe(5);
  });
});
