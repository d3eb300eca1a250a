import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildBlocks, genesisBlock, toTimestamp, transactionId, verifyChain } from '../../lib/ledger';
import type { Block, ChainHead, Transaction, TransactionStatus } from '../../lib/ledger/types';
import type { ResourceVector } from '../../lib/model/resources';
import type {
  AppendResult,
  Commit,
  LedgerStore,
  ReservationChange,
  TaskChange,
  TaskRecord,
} from '../../lib/ports/ledger-store';
import { gpuDeviceContract } from './gpu-devices.case';

/**
 * The one contract every LedgerStore runs (memory, SQLite, DynamoDB). It uses only the port, so it
 * holds for any backend; sizes are parameters so a slow backend (an emulator) can run it smaller.
 */
export interface LedgerStoreContractOptions {
  /** Writers racing in the concurrency tests. Default 8. */
  appenders?: number;
  /** Tasks each racing writer records. Default 6. */
  tasksPerAppender?: number;
  /** Per-test timeout, ms. Default 30 000. */
  timeout?: number;
}

export type StoreFactory = () => Promise<{ store: LedgerStore; cleanup(): Promise<void> }>;

const CAPACITY: ResourceVector = { cpu: 1000, mem: 2048 };
const T0 = Date.UTC(2026, 10, 21, 6, 0, 0);

function decision(taskId: string, vmId: string | null, requirements: ResourceVector, at = T0): Transaction {
  return {
    transaction_id: transactionId(taskId, 'decision'),
    timestamp: toTimestamp(at),
    task_id: taskId,
    vm_id: vmId,
    status: vmId === null ? 'rejected' : 'assigned',
    algorithm: 'contract',
    score: vmId === null ? null : 1,
    reason: vmId === null ? 'no feasible VM' : 'contract placement',
    task_requirements: requirements,
    // docs/ledger-format.md section 2.2: an assignment records the VM before and after, a rejection neither.
    vm_state_before: vmId === null ? null : { reserved: {}, usage: {}, active_tasks: 0 },
    vm_state_after: vmId === null ? null : { reserved: { ...requirements }, usage: {}, active_tasks: 1 },
  };
}

function closing(
  taskId: string,
  vmId: string,
  status: 'completed' | 'expired',
  requirements: ResourceVector,
) {
  return {
    ...decision(taskId, vmId, requirements, T0 + 1000),
    status,
    transaction_id: transactionId(taskId, 'close'),
    score: null,
    vm_state_before: null,
    vm_state_after: null,
  };
}

function record(tx: Transaction, height: number, lease: number | null = null): TaskRecord {
  return {
    task_id: tx.task_id,
    status: tx.status,
    vm_id: tx.vm_id,
    block_height: height,
    transaction_id: tx.transaction_id,
    requirements: tx.task_requirements,
    deadline: T0 / 1000 + 3600,
    duration: 60,
    lease_expires_at: tx.status === 'assigned' ? lease : null,
    updated_at: T0,
  };
}

function reserve(vmId: string, requirements: ResourceVector, sign: 1 | -1 = 1): ReservationChange {
  const delta: ResourceVector = {};
  for (const [d, v] of Object.entries(requirements)) delta[d] = sign * v;
  return { vm_id: vmId, delta, active_delta: sign, capacity: CAPACITY };
}

/**
 * Builds the commit for `txs` on top of `head`: the blocks, a task change per transaction (decisions
 * expect 'absent', closings expect 'assigned') and the matching reservation changes.
 */
function commitFor(
  head: ChainHead,
  txs: Transaction[],
  options: { leases?: Record<string, number>; extraReservations?: ReservationChange[] } = {},
): Commit {
  const blocks = buildBlocks(head, txs, { maxPerBlock: 5, timestamp: toTimestamp(T0) });
  const tasks: TaskChange[] = [];
  const reservations: ReservationChange[] = [...(options.extraReservations ?? [])];
  for (const block of blocks) {
    for (const tx of block.transactions) {
      const closes = tx.status === 'completed' || tx.status === 'expired';
      tasks.push({
        record: record(tx, block.height, options.leases?.[tx.task_id] ?? T0 + 60_000),
        expect: closes ? { status: 'assigned' } : 'absent',
      });
      if (tx.vm_id !== null && tx.status !== 'rejected') {
        reservations.push(reserve(tx.vm_id, tx.task_requirements, closes ? -1 : 1));
      }
    }
  }
  return { blocks, reservations, tasks };
}

/** Everything observable through the port, to show that a rejected append wrote nothing. */
async function observe(store: LedgerStore, taskIds: string[], txIds: string[]) {
  const head = await store.readHead();
  return {
    head,
    blocks: await store.getBlocks(0, head.height + 10),
    tasks: await Promise.all(taskIds.map((id) => store.getTask(id))),
    transactions: await Promise.all(txIds.map((id) => store.findTransaction(id))),
    reservations: await store.getReservations(),
    leases: await store.listExpiredLeases(Number.MAX_SAFE_INTEGER, 1000),
  };
}

async function appendOk(store: LedgerStore, txs: Transaction[], leases?: Record<string, number>) {
  const head = await store.readHead();
  const commit = commitFor(head, txs, leases ? { leases } : {});
  const result = await store.append(head, commit);
  expect(result).toEqual({
    ok: true,
    head: { height: commit.blocks.at(-1)!.height, hash: commit.blocks.at(-1)!.block_hash },
  });
  return commit;
}

async function allBlocks(store: LedgerStore): Promise<Block[]> {
  const head = await store.readHead();
  const blocks: Block[] = [];
  while (blocks.length <= head.height) {
    const page = await store.getBlocks(blocks.length, 100);
    if (page.length === 0) break;
    blocks.push(...page);
  }
  return blocks;
}

export function ledgerStoreContract(
  name: string,
  makeStore: StoreFactory,
  options: LedgerStoreContractOptions = {},
) {
  const appenders = options.appenders ?? 8;
  const tasksPerAppender = options.tasksPerAppender ?? 6;
  const timeout = options.timeout ?? 30_000;

  describe(`LedgerStore contract: ${name}`, { timeout }, () => {
    let store: LedgerStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    describe('a fresh store', () => {
      it('holds the genesis block and nothing else', async () => {
        const genesis = genesisBlock();
        expect(await store.readHead()).toEqual({ height: 0, hash: genesis.block_hash });
        expect(await store.getBlock(0)).toEqual(genesis);
        expect(await store.getBlocks(0, 10)).toEqual([genesis]);
        expect(await store.getBlock(1)).toBeNull();
        expect(await store.getReservations()).toEqual([]);
        expect(await store.getTask('t-1')).toBeNull();
        expect(await store.findTransaction(transactionId('t-1', 'decision'))).toBeNull();
        expect(await store.listExpiredLeases(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
      });
    });

    describe('append', () => {
      it('extends the head and writes blocks, index, task records and reservations', async () => {
        const tx = decision('t-1', 'vm-1', { cpu: 100, mem: 256 });
        const commit = await appendOk(store, [tx]);
        const block = commit.blocks[0]!;

        expect(await store.readHead()).toEqual({ height: 1, hash: block.block_hash });
        expect(await store.getBlock(1)).toEqual(block);
        expect(await store.findTransaction(tx.transaction_id)).toEqual({ height: 1, index: 0 });
        expect(await store.getTask('t-1')).toEqual(commit.tasks[0]!.record);
        expect(await store.getReservations()).toEqual([
          { vm_id: 'vm-1', reserved: { cpu: 100, mem: 256 }, active_tasks: 1, capacity: CAPACITY },
        ]);
      });

      it('writes a multi-block commit and indexes every transaction at its block and position', async () => {
        const txs = Array.from({ length: 12 }, (_, i) =>
          decision(`t-${i}`, i % 2 ? 'vm-1' : null, { cpu: 10, mem: 1 }),
        );
        const commit = await appendOk(store, txs);
        expect(commit.blocks.length).toBeGreaterThan(1);

        expect(await store.getBlocks(1, commit.blocks.length)).toEqual(commit.blocks);
        expect(await store.getBlocks(2, 1)).toEqual([commit.blocks[1]]);
        for (const block of commit.blocks) {
          for (const [index, tx] of block.transactions.entries()) {
            expect(await store.findTransaction(tx.transaction_id)).toEqual({ height: block.height, index });
          }
        }
        // The batch form answers the same, in the order asked, a repeat and an unknown id included
        // (more than 100 ids: DynamoDB's BatchGetItem takes 100 keys per request).
        const ids = commit.blocks.flatMap((b) => b.transactions.map((tx) => tx.transaction_id));
        const asked = [
          ids[3]!,
          'unknown',
          ...ids,
          ids[3]!,
          ...Array.from({ length: 100 }, (_, i) => `none-${i}`),
        ];
        if (store.findTransactions) {
          expect(await store.findTransactions(asked)).toEqual(
            await Promise.all(asked.map((id) => store.findTransaction(id))),
          );
          expect(await store.findTransactions([])).toEqual([]);
        }
        const rejected = await store.getTask('t-0');
        expect(rejected?.status).toBe('rejected');
        expect(await store.getReservations()).toEqual([
          { vm_id: 'vm-1', reserved: { cpu: 60, mem: 6 }, active_tasks: 6, capacity: CAPACITY },
        ]);
      });

      it('answers a batch task lookup like getTask, in the order asked', async () => {
        await appendOk(store, [decision('a', 'vm-1', { cpu: 1 }), decision('b', null, { cpu: 1 })]);
        const ids = ['b', 'missing', 'a', 'b'];
        expect(await store.getTasks(ids)).toEqual(await Promise.all(ids.map((id) => store.getTask(id))));
        expect(await store.getTasks([])).toEqual([]);
      });

      it('reads the reservations of the VMs asked for, each once, and no others', async () => {
        await appendOk(store, [
          decision('a', 'vm-1', { cpu: 10 }),
          decision('b', 'vm-2', { cpu: 20 }),
          decision('c', 'vm-3', { cpu: 30 }),
        ]);
        const held = (vmId: string, cpu: number) => ({
          vm_id: vmId,
          reserved: { cpu },
          active_tasks: 1,
          capacity: CAPACITY,
        });
        expect(await store.getReservations()).toEqual([held('vm-1', 10), held('vm-2', 20), held('vm-3', 30)]);
        expect(await store.getReservations(['vm-3', 'vm-1', 'vm-3', 'vm-never'])).toEqual([
          held('vm-1', 10),
          held('vm-3', 30),
        ]);
        expect(await store.getReservations([])).toEqual([]);
      });

      it('reads head, tasks and reservations in one readState, as the single reads answer them', async (ctx) => {
        if (!store.readState) {
          ctx.skip();
          return;
        }
        await appendOk(store, [decision('a', 'vm-1', { cpu: 10 }), decision('b', null, { cpu: 1 })]);
        await appendOk(store, [decision('c', 'vm-2', { cpu: 20 })]);
        const ids = ['b', 'missing', 'a', 'b'];
        const vms = ['vm-2', 'vm-never', 'vm-1', 'vm-2'];
        expect(await store.readState(ids, vms)).toEqual({
          head: await store.readHead(),
          tasks: await store.getTasks(ids),
          reservations: await store.getReservations(vms),
        });
        expect(await store.readState([], [])).toEqual({
          head: await store.readHead(),
          tasks: [],
          reservations: [],
        });
      });

      it('pages blocks from any height and returns nothing past the head', async () => {
        await appendOk(store, [decision('a', null, { cpu: 1 })]);
        await appendOk(store, [decision('b', null, { cpu: 1 })]);
        const head = await store.readHead();
        expect((await store.getBlocks(0, 100)).map((b) => b.height)).toEqual([0, 1, 2]);
        expect((await store.getBlocks(1, 1)).map((b) => b.height)).toEqual([1]);
        expect(await store.getBlocks(head.height + 1, 10)).toEqual([]);
        expect(await store.getBlock(head.height + 1)).toBeNull();
      });

      it('rejects a stale head (height or hash) and writes nothing', async () => {
        const stale = await store.readHead();
        await appendOk(store, [decision('t-1', 'vm-1', { cpu: 100 })]);
        const late = decision('t-2', 'vm-1', { cpu: 100 });
        const before = await observe(store, ['t-1', 't-2'], [late.transaction_id]);

        const staleResult = await store.append(stale, commitFor(stale, [late]));
        expect(staleResult).toMatchObject({ ok: false, conflict: 'head-moved' });

        const current = await store.readHead();
        const forged = { height: current.height, hash: stale.hash };
        const forgedResult = await store.append(forged, commitFor(forged, [late]));
        expect(forgedResult).toMatchObject({ ok: false, conflict: 'head-moved' });

        expect(await observe(store, ['t-1', 't-2'], [late.transaction_id])).toEqual(before);
      });

      it('rejects a change that takes any one dimension over capacity and writes nothing', async () => {
        await appendOk(store, [decision('t-1', 'vm-1', { cpu: 100, mem: 2000 })]);
        const tooBig = decision('t-2', 'vm-1', { cpu: 100, mem: 49 });
        const before = await observe(store, ['t-1', 't-2'], [tooBig.transaction_id]);
        const head = await store.readHead();

        const result = await store.append(head, commitFor(head, [tooBig]));
        expect(result).toMatchObject({ ok: false, conflict: 'over-capacity' });
        if (!result.ok) expect(result.detail).toContain('mem');
        expect(await observe(store, ['t-1', 't-2'], [tooBig.transaction_id])).toEqual(before);
      });

      it('checks the sum of several changes to one VM in a commit, and fills exactly to capacity', async () => {
        const head = await store.readHead();
        const halves = [decision('a', 'vm-1', { cpu: 600 }), decision('b', 'vm-1', { cpu: 600 })];
        expect(await store.append(head, commitFor(head, halves))).toMatchObject({
          conflict: 'over-capacity',
        });

        await appendOk(store, [decision('c', 'vm-1', { cpu: 400 }), decision('d', 'vm-1', { cpu: 600 })]);
        expect(await store.getReservations()).toEqual([
          { vm_id: 'vm-1', reserved: { cpu: 1000 }, active_tasks: 2, capacity: CAPACITY },
        ]);
      });

      it('sums fractional amounts exactly: releases return to the exact rest, a fractional fill fits', async () => {
        // In binary floating point 1 + 33.3 + 33.4 - 33.3 - 33.4 is 0.9999999999999929 and
        // 999.7 + 0.1 + 0.2 is 1000.0000000000001; amounts are summed in micro-units instead.
        await appendOk(store, [decision('keep', 'vm-1', { cpu: 1 })]);
        await appendOk(store, [decision('a', 'vm-1', { cpu: 33.3 })]);
        await appendOk(store, [decision('b', 'vm-1', { cpu: 33.4 })]);
        await appendOk(store, [closing('a', 'vm-1', 'completed', { cpu: 33.3 })]);
        await appendOk(store, [closing('b', 'vm-1', 'expired', { cpu: 33.4 })]);
        expect(await store.getReservations()).toEqual([
          { vm_id: 'vm-1', reserved: { cpu: 1 }, active_tasks: 1, capacity: CAPACITY },
        ]);

        await appendOk(store, [decision('x', 'vm-2', { cpu: 999.7 })]);
        await appendOk(store, [decision('y', 'vm-2', { cpu: 0.1 }), decision('z', 'vm-2', { cpu: 0.2 })]);
        expect((await store.getReservations(['vm-2']))[0]!.reserved).toEqual({ cpu: 1000 });
        const head = await store.readHead();
        const over = decision('w', 'vm-2', { cpu: 0.000001 });
        expect(await store.append(head, commitFor(head, [over]))).toMatchObject({
          conflict: 'over-capacity',
        });
        await appendOk(store, [
          closing('x', 'vm-2', 'completed', { cpu: 999.7 }),
          closing('y', 'vm-2', 'completed', { cpu: 0.1 }),
        ]);
        expect((await store.getReservations(['vm-2']))[0]!.reserved).toEqual({ cpu: 0.2 });
      });

      it('records a task once: a second decision for it is a task conflict and writes nothing', async () => {
        await appendOk(store, [decision('t-1', 'vm-1', { cpu: 100 })]);
        const head = await store.readHead();
        // A different transaction id, so that only the task condition can fail.
        const again = {
          ...decision('t-1', 'vm-2', { cpu: 100 }),
          transaction_id: transactionId('t-1-again', 'decision'),
        };
        const before = await observe(store, ['t-1'], [again.transaction_id]);

        const result = await store.append(head, commitFor(head, [again]));
        expect(result).toMatchObject({ ok: false, conflict: 'task-conflict' });
        expect(await observe(store, ['t-1'], [again.transaction_id])).toEqual(before);
      });

      it('rejects a transaction id already in the ledger and writes nothing', async () => {
        const first = decision('t-1', 'vm-1', { cpu: 100 });
        await appendOk(store, [first]);
        const head = await store.readHead();
        const reused = { ...decision('t-2', 'vm-1', { cpu: 100 }), transaction_id: first.transaction_id };
        const before = await observe(store, ['t-1', 't-2'], [first.transaction_id]);

        const result = await store.append(head, commitFor(head, [reused]));
        expect(result).toMatchObject({ ok: false, conflict: 'task-conflict' });
        expect(await observe(store, ['t-1', 't-2'], [first.transaction_id])).toEqual(before);
      });

      it('completes a task only from assigned, releasing its reservation', async () => {
        const requirements = { cpu: 300, mem: 512 };
        await appendOk(store, [decision('t-1', 'vm-1', requirements), decision('t-2', null, requirements)]);
        const done = closing('t-1', 'vm-1', 'completed', requirements);
        const commit = await appendOk(store, [done]);

        expect(await store.getTask('t-1')).toEqual(commit.tasks[0]!.record);
        expect(await store.getReservations()).toEqual([
          { vm_id: 'vm-1', reserved: { cpu: 0, mem: 0 }, active_tasks: 0, capacity: CAPACITY },
        ]);

        for (const [taskId, status] of [
          ['t-1', 'expired'], // already completed
          ['t-2', 'completed'], // rejected, never assigned
          ['t-3', 'completed'], // unknown
        ] as const) {
          const head = await store.readHead();
          const tx = {
            ...closing(taskId, 'vm-1', status, requirements),
            transaction_id: transactionId(`${taskId}-x`, 'close'),
          };
          const before = await observe(store, [taskId], [tx.transaction_id]);
          const result = await store.append(head, {
            blocks: buildBlocks(head, [tx], { maxPerBlock: 5, timestamp: toTimestamp(T0) }),
            reservations: [],
            tasks: [{ record: record(tx, head.height + 1), expect: { status: 'assigned' } }],
          });
          expect(result, `${taskId} -> ${status}`).toMatchObject({ ok: false, conflict: 'task-conflict' });
          expect(await observe(store, [taskId], [tx.transaction_id])).toEqual(before);
        }
      });

      it('keeps what it stored apart from the objects passed in and handed out', async () => {
        const tx = decision('t-1', 'vm-1', { cpu: 100 });
        const commit = await appendOk(store, [tx]);
        const before = await observe(store, ['t-1'], [tx.transaction_id]);

        commit.blocks[0]!.transactions[0]!.vm_id = 'tampered';
        commit.tasks[0]!.record.status = 'expired';
        commit.reservations[0]!.delta.cpu = 999;
        const read = await store.getBlock(1);
        read!.transactions[0]!.reason = 'tampered';
        (await store.getTask('t-1'))!.status = 'completed';
        (await store.getReservations())[0]!.reserved.cpu = 0;

        expect(await observe(store, ['t-1'], [tx.transaction_id])).toEqual(before);
      });

      it('throws on a malformed commit (blocks that do not extend the expected head) and writes nothing', async () => {
        const head = await store.readHead();
        const unlinked = buildBlocks(
          { height: 0, hash: 'f'.repeat(64) },
          [decision('t-1', null, { cpu: 1 })],
          {
            maxPerBlock: 5,
            timestamp: toTimestamp(T0),
          },
        );
        const before = await observe(store, ['t-1'], []);
        await expect(store.append(head, { blocks: unlinked, reservations: [], tasks: [] })).rejects.toThrow();
        await expect(store.append(head, { blocks: [], reservations: [], tasks: [] })).rejects.toThrow();
        expect(await observe(store, ['t-1'], [])).toEqual(before);
      });
    });

    describe('leases', () => {
      it('lists assigned tasks whose lease ends at or before the time, earliest first, up to the limit', async () => {
        await appendOk(
          store,
          ['a', 'b', 'c', 'd'].map((id) => decision(id, 'vm-1', { cpu: 10 })),
          { a: T0 + 300, b: T0 + 100, c: T0 + 200, d: T0 + 400 },
        );
        await appendOk(store, [closing('b', 'vm-1', 'completed', { cpu: 10 })]);

        const ids = async (before: number, limit: number) =>
          (await store.listExpiredLeases(before, limit)).map((r) => r.task_id);
        expect(await ids(T0 + 99, 10)).toEqual([]);
        expect(await ids(T0 + 300, 10)).toEqual(['c', 'a']);
        expect(await ids(T0 + 1000, 2)).toEqual(['c', 'a']);
        expect(await ids(T0 + 1000, 10)).toEqual(['c', 'a', 'd']);
        const [first] = await store.listExpiredLeases(T0 + 200, 1);
        expect(first).toEqual(await store.getTask('c'));
      });
    });

    describe('concurrent appenders', () => {
      it('lets exactly one of many racing writers close the same task', async () => {
        const requirements = { cpu: 100 };
        await appendOk(store, [decision('t-1', 'vm-1', requirements)]);

        const results = await Promise.all(
          Array.from({ length: appenders }, async (_, writer) => {
            for (;;) {
              const head = await store.readHead();
              const status: TransactionStatus = writer % 2 ? 'completed' : 'expired';
              const result = await store.append(
                head,
                commitFor(head, [closing('t-1', 'vm-1', status, requirements)]),
              );
              if (result.ok || result.conflict !== 'head-moved') return result;
            }
          }),
        );

        expect(results.filter((r) => r.ok)).toHaveLength(1);
        expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.conflict === 'task-conflict')).toBe(true);
        expect(await store.readHead()).toMatchObject({ height: 2 });
        expect(await store.getReservations()).toEqual([
          { vm_id: 'vm-1', reserved: { cpu: 0 }, active_tasks: 0, capacity: CAPACITY },
        ]);
      });

      it('serialises racing writers: one wins each height, nothing lost or duplicated, no VM over capacity', async () => {
        const vms = ['vm-a', 'vm-b', 'vm-c'];
        // Capacity for about half the tasks, so writers also race for the last free room.
        const size = {
          cpu: Math.floor((CAPACITY.cpu! * vms.length * 2) / (appenders * tasksPerAppender)) + 1,
        };
        const wins: number[] = [];

        await Promise.all(
          Array.from({ length: appenders }, async (_, writer) => {
            for (let n = 0; n < tasksPerAppender; n++) {
              const taskId = `w${writer}-t${n}`;
              for (;;) {
                const head = await store.readHead();
                const reserved = new Map(
                  (await store.getReservations()).map((r) => [r.vm_id, r.reserved.cpu ?? 0]),
                );
                const vm = vms.find((id) => (reserved.get(id) ?? 0) + size.cpu <= CAPACITY.cpu!) ?? null;
                const result: AppendResult = await store.append(
                  head,
                  commitFor(head, [decision(taskId, vm, size)]),
                );
                if (result.ok) {
                  wins.push(result.head.height);
                  break;
                }
                expect(['head-moved', 'over-capacity']).toContain(result.conflict);
              }
            }
          }),
        );

        const blocks = await allBlocks(store);
        const total = appenders * tasksPerAppender;
        expect([...wins].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        expect(blocks.map((b) => b.height)).toEqual(Array.from({ length: total + 1 }, (_, i) => i));

        const txs = blocks.flatMap((b) => b.transactions);
        expect(new Set(txs.map((t) => t.task_id)).size).toBe(total);
        expect(txs).toHaveLength(total);

        const placed = new Map<string, number>();
        for (const tx of txs) if (tx.vm_id) placed.set(tx.vm_id, (placed.get(tx.vm_id) ?? 0) + 1);
        expect(txs.some((t) => t.status === 'rejected')).toBe(true);
        for (const reservation of await store.getReservations()) {
          expect(reservation.reserved.cpu).toBeLessThanOrEqual(CAPACITY.cpu!);
          expect(reservation.reserved.cpu).toBe((placed.get(reservation.vm_id) ?? 0) * size.cpu);
          expect(reservation.active_tasks).toBe(placed.get(reservation.vm_id) ?? 0);
        }

        const head = await store.readHead();
        const report = await verifyChain(blocks, { expectedHead: head });
        expect(report).toMatchObject({ valid: true, height: total, transactions_checked: total });
      });
    });

    gpuDeviceContract(() => store);
  });
}

export { CAPACITY, closing, commitFor, decision, record, reserve, T0 };
