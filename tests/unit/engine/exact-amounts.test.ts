import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { SqliteLedgerStore } from '../../../lib/adapters/sqlite/sqlite-ledger-store';
import { verifyChain } from '../../../lib/ledger';
import { AMOUNT_SCALE, fromMicro, toMicro } from '../../../lib/model/amount';
import { ManualClock } from '../../../lib/ports/clock';
import type { LedgerStore } from '../../../lib/ports/ledger-store';
import { replayReservations } from './exact-replay';
import { chain, FakeFleet, makeEngine, T0, task, vm } from './helpers';

function sqliteStore(): LedgerStore {
  const dir = mkdtempSync(join(tmpdir(), 'bcs-exact-'));
  const store = new SqliteLedgerStore(join(dir, 'ledger.db'));
  onTestFinished(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

const stores: [string, () => LedgerStore][] = [
  ['memory', () => new MemoryLedgerStore()],
  ['sqlite', sqliteStore],
];

describe.each(stores)('exact resource accounting (%s store)', (_name, makeStore) => {
  it('returns to the exact rest after fractional tasks finish, and keeps scheduling (issue 21 repro)', async () => {
    // Prepare: the repro, one VM; in floating point reserved.mem ended at -7.1e-15.
    const store = makeStore();
    const fleet = new FakeFleet([vm('vm-1', { cpu: 4000, mem: 500 })]);
    const clock = new ManualClock(T0);
    const engine = makeEngine(store, fleet, clock);

    // Act
    await engine.schedule([task('keep', { cpu: 1 }), task('a', { mem: 33.3 }), task('b', { mem: 33.4 })]);
    await engine.complete('a');
    await engine.complete('b');
    const victim = await engine.schedule([task('victim', { cpu: 1 })]);

    // Assess
    expect(victim.decisions.map((d) => d.status)).toEqual(['assigned']);
    const [reservation] = await store.getReservations(['vm-1']);
    expect(reservation).toMatchObject({ reserved: { cpu: 2, mem: 0 }, active_tasks: 2 });
    const blocks = await chain(store);
    expect(await verifyChain(blocks)).toMatchObject({ valid: true });
    expect(replayReservations(blocks.flatMap((b) => b.transactions)).mismatches).toEqual([]);
  });

  it('places a task that exactly fills a VM with fractional reservations', async () => {
    const store = makeStore();
    const engine = makeEngine(store, new FakeFleet([vm('vm-1', { cpu: 1000, mem: 1 })]), new ManualClock(T0));
    // 999.7 + 0.1 + 0.2 is 1000.0000000000001 in floating point, over capacity.
    const outcome = await engine.schedule([
      task('x', { cpu: 999.7 }),
      task('y', { cpu: 0.1 }),
      task('z', { cpu: 0.2 }),
    ]);
    expect(outcome.decisions.map((d) => [d.task.id, d.status])).toEqual([
      ['x', 'assigned'],
      ['y', 'assigned'],
      ['z', 'assigned'],
    ]);
    expect((await store.getReservations())[0]!.reserved.cpu).toBe(1000);
  });
});

/** An amount with up to 6 fractional digits, as micro-units, so sums of many are exact in the oracle. */
const microAmount = fc.integer({ min: 0, max: 300 * AMOUNT_SCALE });

const operation = fc.oneof(
  fc.record({
    kind: fc.constant('schedule' as const),
    engine: fc.nat(1),
    tasks: fc.array(fc.record({ id: fc.nat(30), cpu: microAmount, mem: microAmount }), {
      minLength: 1,
      maxLength: 5,
    }),
  }),
  fc.record({ kind: fc.constant('complete' as const), engine: fc.nat(1), id: fc.nat(30) }),
  fc.record({
    kind: fc.constant('expire' as const),
    engine: fc.nat(1),
    advanceMs: fc.integer({ min: 0, max: 120_000 }),
  }),
);

describe('exact resource accounting under random fractional assign/complete/expire', () => {
  it('leaves every reservation exactly the sum of its active tasks, never negative, and the ledger replays exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(operation, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 10 }),
        fc.constantFrom('least-loaded', 'best-fit', 'p2c', 'round-robin'),
        async (steps, algorithm) => {
          const store = new MemoryLedgerStore();
          const fleet = new FakeFleet([
            vm('vm-a', { cpu: 500.5, mem: 700.25 }),
            vm('vm-b', { cpu: 333.333333, mem: 900 }),
          ]);
          const clock = new ManualClock(T0);
          const engines = [0, 1].map((seed) =>
            makeEngine(store, fleet, clock, { algorithm, seed, maxAttempts: 100, leaseGraceSeconds: 5 }),
          );
          for (const step of steps) {
            await Promise.all(
              step.map((op) => {
                const engine = engines[op.engine]!;
                if (op.kind === 'schedule') {
                  return engine.schedule(
                    op.tasks.map((t) =>
                      task(
                        `t-${t.id}`,
                        { cpu: fromMicro(t.cpu), mem: fromMicro(t.mem) },
                        { duration: 20 + t.id },
                      ),
                    ),
                  );
                }
                if (op.kind === 'complete') return engine.complete(`t-${op.id}`);
                clock.advance(op.advanceMs);
                return engine.expireLeases();
              }),
            );
            // After every step: each reservation is exactly the sum of its VM's active tasks.
            const active = new Map<string, { cpu: number; mem: number; count: number }>();
            for (let id = 0; id <= 30; id++) {
              const record = await store.getTask(`t-${id}`);
              if (record?.status !== 'assigned') continue;
              const sum = active.get(record.vm_id!) ?? { cpu: 0, mem: 0, count: 0 };
              sum.cpu += toMicro(record.requirements.cpu!);
              sum.mem += toMicro(record.requirements.mem!);
              sum.count++;
              active.set(record.vm_id!, sum);
            }
            for (const r of await store.getReservations()) {
              const sum = active.get(r.vm_id) ?? { cpu: 0, mem: 0, count: 0 };
              expect(r.reserved.cpu).toBe(fromMicro(sum.cpu));
              expect(r.reserved.mem).toBe(fromMicro(sum.mem));
              expect(r.active_tasks).toBe(sum.count);
              expect(r.reserved.cpu).toBeGreaterThanOrEqual(0);
              expect(r.reserved.mem).toBeGreaterThanOrEqual(0);
              expect(r.reserved.cpu).toBeLessThanOrEqual(r.capacity.cpu!);
              expect(r.reserved.mem).toBeLessThanOrEqual(r.capacity.mem!);
            }
          }
          const blocks = await chain(store);
          expect(await verifyChain(blocks)).toMatchObject({ valid: true });
          expect(replayReservations(blocks.flatMap((b) => b.transactions)).mismatches).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);
});
