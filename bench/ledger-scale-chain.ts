import { buildBlocks } from '../lib/ledger/blocks';
import { toTimestamp } from '../lib/ledger/time';
import { transactionId } from '../lib/ledger/transactions';
import type { Block, ChainHead, Transaction } from '../lib/ledger/types';

/** The ledger-scale chain (bench/ledger-scale.ts): the same blocks for every store. */
export const T0 = Date.UTC(2026, 10, 21, 6, 0, 0);
const SEED_BATCH = 1000;

export function decision(n: number): Transaction {
  const assigned = n % 4 !== 0;
  return {
    transaction_id: transactionId(`s-${n}`, 'decision'),
    timestamp: toTimestamp(T0 + n),
    task_id: `s-${n}`,
    vm_id: assigned ? `vm-${n % 50}` : null,
    status: assigned ? 'assigned' : 'rejected',
    algorithm: 'bench',
    score: assigned ? 0.5 : null,
    reason: assigned ? 'bench placement' : 'no feasible VM',
    task_requirements: { cpu: 1, mem: 1 },
    // docs/ledger-format.md 2.2: an assignment records the VM before and after, a rejection neither.
    vm_state_before: assigned ? { reserved: {}, usage: {}, active_tasks: 0 } : null,
    vm_state_after: assigned ? { reserved: { cpu: 1, mem: 1 }, usage: {}, active_tasks: 1 } : null,
  };
}

/** The next seed blocks after `head` (at most 1,000, up to `height`): the same chain for every store. */
export function seedBlocks(head: ChainHead, height: number): Block[] {
  const count = Math.min(SEED_BATCH, height - head.height);
  const txs = Array.from({ length: count }, (_, i) => decision(head.height + i));
  return buildBlocks(head, txs, { maxPerBlock: 1, timestamp: toTimestamp(T0 + head.height) });
}
