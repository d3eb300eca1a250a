import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import { SqliteLedgerStore } from '../../../lib/adapters/sqlite/sqlite-ledger-store';
import { AppendRetriesExhausted } from '../../../lib/engine/errors';
import { ValidationError } from '../../../lib/errors';
import { transactionId, verifyChain } from '../../../lib/ledger';
import type { ChainHead } from '../../../lib/ledger/types';
import type { LedgerStore } from '../../../lib/ports/ledger-store';
import { UnknownAlgorithmError } from '../../../lib/scheduling';
import { chain, makeEngine, reservedFromChain, setup, T0, task, vm } from './helpers';

describe('SchedulingEngine.schedule', () => {
  it('places tasks, commits them in blocks of blockSize and records tasks and reservations', async () => {
    // Prepare
    const { store, engine } = setup(
      [vm('vm-a', { cpu: 1000, mem: 1000 }), vm('vm-b', { cpu: 1000, mem: 1000 })],
      {
        blockSize: 3,
        leaseGraceSeconds: 30,
      },
    );
    const tasks = Array.from({ length: 7 }, (_, i) =>
      task(`t-${i}`, { cpu: 100, mem: 50 }, { duration: 10 + i }),
    );

    // Act
    const outcome = await engine.schedule(tasks);

    // Assess
    expect(outcome.duplicates).toEqual([]);
    expect(outcome.attempts).toBe(1);
    expect(outcome.decisions.map((d) => d.task.id).sort()).toEqual(tasks.map((t) => t.id).sort());
    expect(outcome.decisions.every((d) => d.status === 'assigned')).toBe(true);
    expect(outcome.blocks.map((b) => b.transaction_count)).toEqual([3, 3, 1]);
    expect(outcome.head).toEqual(await store.readHead());
    expect(outcome.head.height).toBe(3);

    const blocks = await chain(store);
    expect(await verifyChain(blocks, { expectedHead: outcome.head })).toMatchObject({ valid: true });
    const txs = blocks.flatMap((b) => b.transactions);
    for (const d of outcome.decisions) {
      const tx = txs.find((t) => t.task_id === d.task.id)!;
      expect(tx).toMatchObject({
        transaction_id: transactionId(d.task.id, 'decision'),
        vm_id: d.vmId,
        status: 'assigned',
        algorithm: 'least-loaded',
        score: d.score,
        task_requirements: d.task.requirements,
        vm_state_before: d.before,
        vm_state_after: d.after,
      });
      const record = await store.getTask(d.task.id);
      expect(record).toMatchObject({ status: 'assigned', vm_id: d.vmId, transaction_id: tx.transaction_id });
      expect(record!.lease_expires_at).toBe(T0 + (d.task.duration + 30) * 1000);
      expect(await store.findTransaction(tx.transaction_id)).toEqual({
        height: record!.block_height,
        index: blocks[record!.block_height]!.transactions.indexOf(tx),
      });
    }
    const expected = reservedFromChain(blocks);
    for (const r of await store.getReservations()) {
      expect(r.reserved).toEqual({ cpu: expected.get(r.vm_id)!.cpu, mem: expected.get(r.vm_id)!.mem });
      expect(r.active_tasks).toBe(expected.get(r.vm_id)!.active);
    }
  });

  it('records a task that fits nowhere as rejected, final and without a lease or reservation', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    const outcome = await engine.schedule([task('huge', { cpu: 5000 })]);

    expect(outcome.decisions).toMatchObject([{ status: 'rejected', vmId: null }]);
    const [tx] = outcome.blocks[0]!.transactions;
    expect(tx).toMatchObject({ status: 'rejected', vm_id: null, score: null });
    expect(tx!.reason).toMatch(/cpu/);
    expect(await store.getTask('huge')).toMatchObject({
      status: 'rejected',
      vm_id: null,
      lease_expires_at: null,
    });
    expect(await store.getReservations()).toEqual([]);
    expect(await engine.complete('huge')).toEqual({ status: 'already-final', taskStatus: 'rejected' });
  });

  it('records as rejected a task whose deadline passed while it waited, whichever the algorithm', async () => {
    // Prepare: blockchain would give an overdue task maximum urgency; the shared filter comes first.
    const { store, engine, clock } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], {
      algorithm: 'blockchain',
    });
    const waited = task('waited', { cpu: 10 }, { deadline: T0 / 1000 + 60 });
    const fresh = task('fresh', { cpu: 10 }, { deadline: T0 / 1000 + 3600 });
    clock.advance(120_000);

    // Act
    const outcome = await engine.schedule([waited, fresh]);

    // Assess
    const txs = outcome.blocks.flatMap((b) => b.transactions);
    expect(txs.find((t) => t.task_id === 'waited')).toMatchObject({
      status: 'rejected',
      vm_id: null,
      score: null,
      vm_state_before: null,
      vm_state_after: null,
      reason: 'deadline passed: 2026-11-21T06:01:00Z is before the decision at 2026-11-21T06:02:00Z',
    });
    expect(txs.find((t) => t.task_id === 'fresh')).toMatchObject({ status: 'assigned', vm_id: 'vm-a' });
    expect(await store.getTask('waited')).toMatchObject({ status: 'rejected', lease_expires_at: null });
    expect((await store.getReservations()).map((r) => [r.vm_id, r.reserved.cpu, r.active_tasks])).toEqual([
      ['vm-a', 10, 1],
    ]);
    expect(await verifyChain(await chain(store), { expectedHead: outcome.head })).toMatchObject({
      valid: true,
    });
  });

  it('treats a redelivered task, or one repeated in a batch, as a duplicate and writes nothing for it', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    await engine.schedule([task('a', { cpu: 100 }), task('b', { cpu: 100 })]);
    const head = await store.readHead();
    const reservations = await store.getReservations();

    const again = await engine.schedule([task('a', { cpu: 100 }), task('b', { cpu: 100 })]);
    expect(again).toMatchObject({ decisions: [], blocks: [], head, duplicates: ['a', 'b'] });
    expect(await store.readHead()).toEqual(head);
    expect(await store.getReservations()).toEqual(reservations);

    const mixed = await engine.schedule([
      task('a', { cpu: 100 }),
      task('c', { cpu: 100 }),
      task('c', { cpu: 100 }),
    ]);
    expect(mixed.decisions.map((d) => d.task.id)).toEqual(['c']);
    expect(mixed.duplicates.sort()).toEqual(['a', 'c']);
    expect((await chain(store)).flatMap((b) => b.transactions)).toHaveLength(3);
  });

  it("takes reservations from the ledger, not from the fleet source's report", async () => {
    // FakeFleet always reports reserved 0: trusting it would put both tasks on the one VM.
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    await engine.schedule([task('first', { cpu: 600 })]);
    const second = await engine.schedule([task('second', { cpu: 600 })]);

    // 600 + 600 > 1000 on the ledger's count: it waits for room, nothing is written for it.
    expect(second.decisions).toEqual([]);
    expect(second.deferred?.map((d) => d.task.id)).toEqual(['second']);
    expect(await store.getReservations()).toMatchObject([
      { vm_id: 'vm-a', reserved: { cpu: 600 }, active_tasks: 1 },
    ]);
  });

  it('commits a batch larger than maxTasksPerCommit in chunks', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 10_000, mem: 10_000 })], { maxTasksPerCommit: 4 });
    const appends: number[] = [];
    const append = store.append.bind(store);
    store.append = async (expected, commit) => {
      appends.push(commit.tasks.length);
      return append(expected, commit);
    };
    const outcome = await engine.schedule(Array.from({ length: 10 }, (_, i) => task(`t-${i}`, { cpu: 10 })));
    expect(appends).toEqual([4, 4, 2]);
    expect(outcome.decisions).toHaveLength(10);
    expect(outcome.head).toEqual(await store.readHead());
  });

  it('cuts chunks at whole blocks when the limit allows, so no block is left part-full between chunks', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 10_000, mem: 10_000 })], {
      maxTasksPerCommit: 12,
      blockSize: 5,
    });
    const appends: number[] = [];
    const append = store.append.bind(store);
    store.append = async (expected, commit) => {
      appends.push(commit.tasks.length);
      return append(expected, commit);
    };
    await engine.schedule(Array.from({ length: 25 }, (_, i) => task(`t-${i}`, { cpu: 10 })));
    expect(appends).toEqual([10, 10, 5]);
    expect((await chain(store)).slice(1).map((b) => b.transactions.length)).toEqual([5, 5, 5, 5, 5]);
  });

  it('switches algorithm at run time and records it; an unknown name changes nothing', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    engine.setAlgorithm('best-fit');
    expect(() => engine.setAlgorithm('no-such-algorithm')).toThrow(UnknownAlgorithmError);
    await engine.schedule([task('a', { cpu: 10 })]);
    expect((await store.getBlock(1))!.transactions[0]!.algorithm).toBe('best-fit');
  });
});

describe('SchedulingEngine edge cases', () => {
  it.each([
    { option: 'blockSize', value: 0 },
    { option: 'maxAttempts', value: 1.5 },
    { option: 'maxTasksPerCommit', value: -1 },
    { option: 'leaseGraceSeconds', value: Number.NaN },
    { option: 'maxWaitSeconds', value: -1 },
    { option: 'maxWaitSeconds', value: Number.POSITIVE_INFINITY },
  ])('refuses $option = $value, naming the field', ({ option, value }) => {
    const error = (() => {
      try {
        setup([], { [option]: value });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual([option]);
  });

  it('rejects every task, with a reason, when the fleet is empty; defers them while all VMs drain', async () => {
    const empty = setup([]);
    const outcome = await empty.engine.schedule([task('a', { cpu: 1 }), task('b', { mem: 1 })]);
    expect(outcome.decisions.map((d) => [d.status, d.rejection])).toEqual([
      ['rejected', 'never-fits'],
      ['rejected', 'never-fits'],
    ]);
    expect(outcome.decisions.every((d) => d.reason.length > 0)).toBe(true);

    // A draining VM's shape could hold them: the room comes back when it is replaced.
    const draining = setup([vm('vm-a', { cpu: 1000, mem: 1000 }, { state: 'draining' })]);
    const waiting = await draining.engine.schedule([task('a', { cpu: 1 }), task('b', { mem: 1 })]);
    expect(waiting.decisions).toEqual([]);
    expect(waiting.deferred?.map((d) => [d.task.id, d.reason])).toEqual([
      ['a', 'no feasible VM: all VMs draining (1)'],
      ['b', 'no feasible VM: all VMs draining (1)'],
    ]);
    for (const { store } of [empty, draining]) expect(await store.getReservations()).toEqual([]);
    expect((await draining.store.readHead()).height).toBe(0);
  });

  it('closes a task whose VM has left the fleet, recording no VM snapshot', async () => {
    const { store, fleet, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    await engine.schedule([task('a', { cpu: 100 })]);
    fleet.vms = [];
    const outcome = await engine.complete('a');
    expect(outcome).toMatchObject({
      status: 'closed',
      transaction: { vm_state_before: null, vm_state_after: null },
    });
    expect(await store.getReservations()).toMatchObject([
      { vm_id: 'vm-a', reserved: { cpu: 0 }, active_tasks: 0 },
    ]);
  });
});

describe('SchedulingEngine under contention', () => {
  it('retries a lost race: re-reads, re-decides against the winner and commits', async () => {
    // No waiting, so the loser records a rejection and its stale first attempt has something to append.
    const { store, fleet, clock, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], {
      maxWaitSeconds: 0,
    });
    const rival = makeEngine(store, fleet, clock);
    // The rival commits after this engine has read the head (reservations are read next).
    const getReservations = store.getReservations.bind(store);
    let raced = false;
    store.getReservations = async () => {
      if (!raced) {
        raced = true;
        await rival.schedule([task('rival', { cpu: 700 })]);
      }
      return getReservations();
    };

    const outcome = await engine.schedule([task('mine', { cpu: 700 })]);

    expect(outcome.attempts).toBe(2);
    // Decided again on top of the rival's reservation: 700 + 700 > 1000.
    expect(outcome.decisions).toMatchObject([{ status: 'rejected' }]);
    expect(outcome.decisions[0]!.reason).toMatch(/^no capacity within 0 s: no feasible VM: needs cpu 700/);
    expect((await chain(store)).map((b) => b.transactions.map((t) => t.task_id))).toEqual([
      [],
      ['rival'],
      ['mine'],
    ]);
  });

  it('gives up after maxAttempts with AppendRetriesExhausted, backing off between tries and writing nothing', async () => {
    const { store, fleet, clock } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    await makeEngine(store, fleet, clock).schedule([task('first', { cpu: 1 })]);
    const genesis = (await store.getBlock(0))!;
    // A reader stuck on a stale head: every compare-and-set fails.
    const stale: LedgerStore = Object.assign(Object.create(store), {
      readHead: async (): Promise<ChainHead> => ({ height: 0, hash: genesis.block_hash }),
    });
    const delays: number[] = [];
    const engine = makeEngine(stale, fleet, clock, {
      maxAttempts: 4,
      sleep: async (ms) => {
        delays.push(ms);
      },
      backoff: { baseMs: 10, capMs: 1000, random: () => 0.5 },
      // Every attempt timed at 0 ms: the base alone sets the waits.
      monotonicMs: () => 0,
    });
    const before = await chain(store);

    const error = await engine.schedule([task('doomed', { cpu: 1 })]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AppendRetriesExhausted);
    expect(error).toMatchObject({ attempts: 4, lastConflict: 'head-moved' });
    // Full jitter with random 0.5: half of 10, 20, 40 ms.
    expect(delays).toEqual([5, 10, 20]);
    expect(await chain(store)).toEqual(before);
    expect(await store.getTask('doomed')).toBeNull();
  });

  it('backs off in proportion to how long the losing attempts took', async () => {
    const { store, fleet, clock } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    await makeEngine(store, fleet, clock).schedule([task('first', { cpu: 1 })]);
    const genesis = (await store.getBlock(0))!;
    const stale: LedgerStore = Object.assign(Object.create(store), {
      readHead: async (): Promise<ChainHead> => ({ height: 0, hash: genesis.block_hash }),
    });
    const delays: number[] = [];
    let now = 0;
    const engine = makeEngine(stale, fleet, clock, {
      maxAttempts: 3,
      sleep: async (ms) => {
        delays.push(ms);
      },
      backoff: { random: () => 0.5 },
      // Each reading 40 ms after the last: every attempt (two readings) takes 40 ms.
      monotonicMs: () => (now += 40),
    });

    await expect(engine.schedule([task('doomed', { cpu: 1 })])).rejects.toBeInstanceOf(
      AppendRetriesExhausted,
    );
    expect(delays).toEqual([0.5 * 40, 0.5 * 80]);
  });

  it.each([
    {
      store: 'one memory store',
      connections: () => {
        const store = new MemoryLedgerStore();
        return { stores: () => store, close: async () => {} };
      },
    },
    {
      store: 'one SQLite file, a connection per engine',
      connections: () => {
        const dir = mkdtempSync(join(tmpdir(), 'bcs-engine-'));
        const opened: SqliteLedgerStore[] = [];
        return {
          stores: () => {
            const store = new SqliteLedgerStore(join(dir, 'ledger.db'), { synchronous: 'NORMAL' });
            opened.push(store);
            return store;
          },
          close: async () => {
            for (const s of opened) await s.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ])(
    'lets several engines race on $store: each task in exactly one block, valid chain, no VM over capacity',
    async ({ connections }) => {
      const vms = [
        vm('vm-a', { cpu: 1000, mem: 4000 }),
        vm('vm-b', { cpu: 1500, mem: 2000 }),
        vm('vm-c', { cpu: 800, mem: 800 }),
      ];
      const { fleet, clock } = setup(vms);
      const { stores, close } = connections();
      onTestFinished(close);
      const store = stores();
      const algorithms = ['least-loaded', 'best-fit', 'round-robin', 'blockchain', 'p2c', 'urgency'];
      const engines = algorithms.map((algorithm, i) =>
        // No waiting: every task is decided in this one pass, so each must be in the chain once.
        makeEngine(stores(), fleet, clock, {
          algorithm,
          seed: i,
          maxAttempts: 50,
          blockSize: 2,
          maxWaitSeconds: 0,
        }),
      );
      const batches = engines.map((_, e) =>
        Array.from({ length: 6 }, (_, i) => task(`e${e}-t${i}`, { cpu: 90 + 10 * i, mem: 100 + 37 * e })),
      );
      // Every engine also sees a redelivery of engine 0's first batch.
      const outcomes = await Promise.all(
        engines.map(async (engine, e) => [
          await engine.schedule(batches[e]!),
          await engine.schedule(batches[0]!),
        ]),
      );

      const blocks = await chain(store);
      const head = await store.readHead();
      expect(await verifyChain(blocks, { expectedHead: head })).toMatchObject({ valid: true });
      const taskIds = blocks.flatMap((b) => b.transactions.map((t) => t.task_id));
      expect(taskIds.sort()).toEqual(
        batches
          .flat()
          .map((t) => t.id)
          .sort(),
      );
      expect(outcomes.flat().some((o) => o.attempts > 1)).toBe(true);
      expect(outcomes.flat().flatMap((o) => o.decisions)).toHaveLength(taskIds.length);

      const implied = reservedFromChain(blocks);
      for (const r of await store.getReservations()) {
        const capacity = vms.find((v) => v.id === r.vm_id)!.capacity;
        expect(r.reserved.cpu).toBeLessThanOrEqual(capacity.cpu!);
        expect(r.reserved.mem).toBeLessThanOrEqual(capacity.mem!);
        expect(r.reserved.cpu).toBeCloseTo(implied.get(r.vm_id)!.cpu, 9);
        expect(r.active_tasks).toBe(implied.get(r.vm_id)!.active);
      }
      await close();
    },
  );
});

describe('SchedulingEngine.complete and expireLeases', () => {
  it('completes an assigned task once: releases its reservation and writes a completed transaction', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    await engine.schedule([task('a', { cpu: 300, mem: 200 }), task('b', { cpu: 100 })]);

    const outcome = await engine.complete('a');

    expect(outcome).toMatchObject({
      status: 'closed',
      transaction: { status: 'completed', task_id: 'a', vm_id: 'vm-a' },
    });
    if (outcome.status !== 'closed') return;
    expect(outcome.transaction.transaction_id).toBe(transactionId('a', 'close'));
    expect(outcome.transaction.vm_state_before).toMatchObject({
      reserved: { cpu: 400, mem: 200 },
      active_tasks: 2,
    });
    expect(outcome.transaction.vm_state_after).toMatchObject({
      reserved: { cpu: 100, mem: 0 },
      active_tasks: 1,
    });
    expect(await store.getTask('a')).toMatchObject({
      status: 'completed',
      lease_expires_at: null,
      block_height: 2,
    });
    expect(await store.getReservations()).toMatchObject([
      { vm_id: 'vm-a', reserved: { cpu: 100, mem: 0 }, active_tasks: 1 },
    ]);
    expect(await engine.complete('a')).toEqual({ status: 'already-final', taskStatus: 'completed' });
    expect(await engine.complete('never-seen')).toEqual({ status: 'unknown' });
    expect((await store.readHead()).height).toBe(2);
  });

  it('closes a task exactly once when many completions race', async () => {
    const { store, fleet, clock, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    await engine.schedule([task('a', { cpu: 300 })]);
    const engines = Array.from({ length: 8 }, () => makeEngine(store, fleet, clock));

    const outcomes = await Promise.all(engines.map((e) => e.complete('a')));

    expect(outcomes.filter((o) => o.status === 'closed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'already-final')).toHaveLength(7);
    const closings = (await chain(store))
      .flatMap((b) => b.transactions)
      .filter((t) => t.status === 'completed');
    expect(closings).toHaveLength(1);
    expect(await store.getReservations()).toMatchObject([{ reserved: { cpu: 0 }, active_tasks: 0 }]);
  });

  it('expires leases that ran out, once, and a late completion then changes nothing', async () => {
    const { store, clock, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], { leaseGraceSeconds: 10 });
    await engine.schedule([
      task('short', { cpu: 100 }, { duration: 20 }),
      task('long', { cpu: 100 }, { duration: 100 }),
    ]);

    clock.advance(29_999);
    expect(await engine.expireLeases()).toEqual([]);
    clock.advance(1);
    const expired = await engine.expireLeases();
    expect(expired.map((t) => [t.task_id, t.status, t.transaction_id])).toEqual([
      ['short', 'expired', transactionId('short', 'close')],
    ]);
    expect(await engine.expireLeases()).toEqual([]);
    expect(await engine.complete('short')).toEqual({ status: 'already-final', taskStatus: 'expired' });
    expect(await store.getReservations()).toMatchObject([{ reserved: { cpu: 100 }, active_tasks: 1 }]);
  });

  it('chains the VM snapshots of tasks closing on one VM in the same commit', async () => {
    const { engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 }, { usage: { cpu: 7, mem: 9 } })]);
    await engine.schedule([task('a', { cpu: 100, mem: 10 }), task('b', { cpu: 200, mem: 20 })]);

    const [a, b] = await engine.completeMany(['a', 'b']);

    if (a?.status !== 'closed' || b?.status !== 'closed') throw new Error('both should close');
    expect(a.transaction.vm_state_before).toEqual({
      reserved: { cpu: 300, mem: 30 },
      usage: { cpu: 7, mem: 9 },
      active_tasks: 2,
    });
    expect(a.transaction.vm_state_after).toEqual({
      reserved: { cpu: 200, mem: 20 },
      usage: { cpu: 7, mem: 9 },
      active_tasks: 1,
    });
    expect(b.transaction.vm_state_before).toEqual(a.transaction.vm_state_after);
    expect(b.transaction.vm_state_after).toEqual({
      reserved: { cpu: 0, mem: 0 },
      usage: { cpu: 7, mem: 9 },
      active_tasks: 0,
    });
  });

  it('closes many tasks in chunks of maxTasksPerCommit, reporting each outcome in input order', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], { maxTasksPerCommit: 2 });
    await engine.schedule([1, 2, 3, 4, 5].map((i) => task(`t-${i}`, { cpu: 10 })));
    await engine.complete('t-2');
    const appends: number[] = [];
    const append = store.append.bind(store);
    store.append = async (expected, commit) => {
      appends.push(commit.tasks.length);
      return append(expected, commit);
    };

    const outcomes = await engine.completeMany(['t-1', 't-2', 'nope', 't-3', 't-4', 't-1', 't-5']);

    expect(outcomes.map((o) => o.status)).toEqual([
      'closed',
      'already-final',
      'unknown',
      'closed',
      'closed',
      'closed',
      'closed',
    ]);
    expect(outcomes[5]).toEqual(outcomes[0]);
    // Chunks of distinct ids: [t-1, t-2], [nope, t-3], [t-4, t-5]; t-2 and nope need no write.
    expect(appends).toEqual([1, 1, 2]);
    expect(await store.getReservations()).toMatchObject([{ reserved: { cpu: 0 }, active_tasks: 0 }]);
  });

  it('lets exactly one of a racing completion and expiry close the task', async () => {
    const { store, fleet, clock, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], {
      leaseGraceSeconds: 0,
    });
    await engine.schedule(Array.from({ length: 5 }, (_, i) => task(`t-${i}`, { cpu: 100 }, { duration: 1 })));
    clock.advance(1000);
    const others = Array.from({ length: 3 }, () => makeEngine(store, fleet, clock));

    const [expired, ...completions] = await Promise.all([
      engine.expireLeases(),
      ...others.flatMap((e) => ['t-0', 't-3'].map((id) => e.complete(id))),
    ]);

    const closings = (await chain(store))
      .flatMap((b) => b.transactions)
      .filter((t) => t.status !== 'assigned');
    expect(closings.map((t) => t.task_id).sort()).toEqual(['t-0', 't-1', 't-2', 't-3', 't-4']);
    const completed = completions.filter((c) => c.status === 'closed').length;
    expect((expired as unknown[]).length + completed).toBe(5);
    expect(await store.getReservations()).toMatchObject([{ reserved: { cpu: 0 }, active_tasks: 0 }]);
  });
});
