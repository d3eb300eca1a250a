import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyChain } from '../../../lib/ledger';
import type { Transaction } from '../../../lib/ledger/types';
import { chain, makeEngine, reservedFromChain, setup, task, vm } from './helpers';

const ALGORITHMS = [
  'least-loaded',
  'best-fit',
  'round-robin',
  'blockchain',
  'p2c',
  'urgency',
  'resource-based',
];

/** One step: several operations started together, so they race on the store. */
const operation = fc.oneof(
  fc.record({
    kind: fc.constant('schedule' as const),
    engine: fc.nat(2),
    tasks: fc.array(
      fc.record({
        id: fc.nat(40),
        cpu: fc.integer({ min: 0, max: 900 }),
        mem: fc.integer({ min: 0, max: 900 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  }),
  fc.record({ kind: fc.constant('complete' as const), engine: fc.nat(2), id: fc.nat(40) }),
  fc.record({
    kind: fc.constant('expire' as const),
    engine: fc.nat(2),
    advanceMs: fc.integer({ min: 0, max: 200_000 }),
  }),
);

describe('SchedulingEngine invariants under random racing operations', () => {
  it('keeps the chain valid, each task decided and closed at most once, and reservations equal to the chain', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(operation, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        fc.constantFrom(...ALGORITHMS),
        async (steps, algorithm) => {
          const vms = [vm('vm-a', { cpu: 1000, mem: 1000 }), vm('vm-b', { cpu: 1500, mem: 800 })];
          const { store, fleet, clock } = setup(vms);
          const engines = [0, 1, 2].map((seed) =>
            makeEngine(store, fleet, clock, { algorithm, seed, maxAttempts: 100, leaseGraceSeconds: 5 }),
          );
          for (const step of steps) {
            await Promise.all(
              step.map((op) => {
                const engine = engines[op.engine]!;
                if (op.kind === 'schedule') {
                  return engine.schedule(
                    op.tasks.map((t) =>
                      task(`t-${t.id}`, { cpu: t.cpu, mem: t.mem }, { duration: 30 + t.id }),
                    ),
                  );
                }
                if (op.kind === 'complete') return engine.complete(`t-${op.id}`);
                clock.advance(op.advanceMs);
                return engine.expireLeases();
              }),
            );
          }

          const blocks = await chain(store);
          expect(await verifyChain(blocks)).toMatchObject({ valid: true });
          const byTask = new Map<string, Transaction[]>();
          for (const tx of blocks.flatMap((b) => b.transactions)) {
            byTask.set(tx.task_id, [...(byTask.get(tx.task_id) ?? []), tx]);
          }
          for (const [taskId, txs] of byTask) {
            const statuses = txs.map((t) => t.status);
            // A decision first; a closing only after an assignment; nothing after that.
            expect(['assigned', 'rejected']).toContain(statuses[0]);
            if (statuses.length > 1) {
              expect(statuses).toHaveLength(2);
              expect(statuses[0]).toBe('assigned');
              expect(['completed', 'expired']).toContain(statuses[1]);
              expect(txs[1]!.vm_id).toBe(txs[0]!.vm_id);
            }
            expect((await store.getTask(taskId))?.status).toBe(statuses.at(-1));
          }
          const implied = reservedFromChain(blocks);
          for (const r of await store.getReservations()) {
            const capacity = vms.find((v) => v.id === r.vm_id)!.capacity;
            const expected = implied.get(r.vm_id)!;
            expect(r.active_tasks).toBe(expected.active);
            expect(r.reserved.cpu).toBeCloseTo(expected.cpu, 6);
            expect(r.reserved.mem).toBeCloseTo(expected.mem, 6);
            expect(r.reserved.cpu).toBeLessThanOrEqual(capacity.cpu!);
            expect(r.reserved.mem).toBeLessThanOrEqual(capacity.mem!);
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 60_000);
});
