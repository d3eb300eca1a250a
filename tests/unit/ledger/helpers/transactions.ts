import fc from 'fast-check';
import { buildBlocks, GENESIS_HASH, genesisBlock, toTimestamp, transactionId } from '../../../../lib/ledger';
import type { Block, Transaction } from '../../../../lib/ledger/types';

/** Factories for ledger tests: schema-valid transactions drawn by fast-check, and chains built from them. */

export const T0 = Date.UTC(2026, 10, 21, 6, 0, 0);

const amount = fc.integer({ min: 0, max: 1_000_000 });
const vector = fc.record({ cpu: amount, mem: amount, io: amount, bw: amount });
const snapshot = fc.record({ reserved: vector, usage: vector, active_tasks: fc.nat({ max: 500 }) });
// Finite doubles without -0: JSON has one zero, so a -0 score would read back as 0.
const score = fc
  .double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })
  .map((x) => (x === 0 ? 0 : x));

const requirementsSnapshot = {
  reserved: { cpu: 0, mem: 0, io: 0, bw: 0 },
  usage: { cpu: 0, mem: 0, io: 0, bw: 0 },
  active_tasks: 0,
};

/** A transaction for a distinct task `index`, with random content (including non-ASCII text). */
export function transactionArbitrary(index: number): fc.Arbitrary<Transaction> {
  return fc
    .record({
      phase: fc.constantFrom('decision', 'close'),
      assigned: fc.boolean(),
      vm: fc.integer({ min: 1, max: 40 }),
      at: fc.integer({ min: 0, max: 86_400_000 }),
      algorithm: fc.constantFrom('round-robin', 'least-loaded', 'best-fit', 'weighted-π'),
      score,
      reason: fc.string({ maxLength: 40, unit: 'grapheme' }),
      requirements: vector,
      before: fc.option(snapshot, { nil: null }),
      after: fc.option(snapshot, { nil: null }),
    })
    .map(({ phase, assigned, vm, at, algorithm, score, reason, requirements, before, after }) => {
      const taskId = `task-${index}`;
      const status =
        phase === 'decision' ? (assigned ? 'assigned' : 'rejected') : assigned ? 'completed' : 'expired';
      const placed = status !== 'rejected';
      // The relations of docs/ledger-format.md section 2.2: an assignment records both VM states, a
      // closing both or neither, a rejection none.
      const states =
        status === 'assigned'
          ? {
              before: before ?? after ?? requirementsSnapshot,
              after: after ?? before ?? requirementsSnapshot,
            }
          : before === null || after === null
            ? { before: null, after: null }
            : { before, after };
      return {
        transaction_id: transactionId(taskId, phase === 'decision' ? 'decision' : 'close'),
        timestamp: toTimestamp(T0 + at),
        task_id: taskId,
        vm_id: placed ? `vm-${vm}` : null,
        status,
        algorithm,
        score: status === 'assigned' ? score : null,
        reason,
        task_requirements: requirements,
        vm_state_before: placed ? states.before : null,
        vm_state_after: placed ? states.after : null,
      } satisfies Transaction;
    });
}

/**
 * `count` transactions with distinct ids, reproducible from `seed`, in an order a chain accepts: a
 * drawn closing closes the oldest assigned decision not yet closed (its task and VM), or becomes an
 * assigned decision of its own task when there is none (docs/ledger-format.md section 2.2).
 */
export function sampleTransactions(count: number, seed: number, firstTask = 0): Transaction[] {
  const open: Transaction[] = [];
  return Array.from({ length: count }, (_, i) => {
    const tx = fc.sample(transactionArbitrary(firstTask + i), { seed: seed + i, numRuns: 1 })[0]!;
    if (tx.status === 'completed' || tx.status === 'expired') {
      const decision = open.shift();
      if (decision) {
        return {
          ...tx,
          task_id: decision.task_id,
          transaction_id: transactionId(decision.task_id, 'close'),
          vm_id: decision.vm_id,
        };
      }
      const assigned: Transaction = {
        ...tx,
        status: 'assigned',
        transaction_id: transactionId(tx.task_id, 'decision'),
        score: 0.5,
        vm_state_before: tx.vm_state_before ?? requirementsSnapshot,
        vm_state_after: tx.vm_state_after ?? requirementsSnapshot,
      };
      open.push(assigned);
      return assigned;
    }
    if (tx.status === 'assigned') open.push(tx);
    return tx;
  });
}

/** Genesis plus blocks holding `perBlock` transactions each (the last may hold fewer). */
export function buildChain(transactions: Transaction[], perBlock = 5): Block[] {
  return [
    genesisBlock(),
    ...buildBlocks({ height: 0, hash: GENESIS_HASH }, transactions, {
      maxPerBlock: perBlock,
      timestamp: toTimestamp(T0),
    }),
  ];
}

/** A deep copy that tests may mutate freely. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
