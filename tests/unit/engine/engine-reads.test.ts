import { describe, expect, it } from 'vitest';
import { MemoryLedgerStore } from '../../../lib/adapters/memory/memory-ledger-store';
import type { Block, ChainHead } from '../../../lib/ledger/types';
import { ManualClock } from '../../../lib/ports/clock';
import type {
  AppendResult,
  Commit,
  LedgerState,
  LedgerStore,
  Reservation,
  TaskRecord,
} from '../../../lib/ports/ledger-store';
import { FakeFleet, makeEngine, T0, task, vm } from './helpers';

/**
 * A store that logs every call the engine makes, by name and the ids it asks for: an id-less
 * getReservations (a full table Scan on DynamoDB) shows up as `getReservations(*)`.
 */
class CountingStore implements LedgerStore {
  readonly log: string[] = [];
  readState?: (taskIds: readonly string[], vmIds: readonly string[]) => Promise<LedgerState>;
  /** Runs once, just before the next append reaches the inner store (to make another writer win). */
  beforeAppend: (() => Promise<void>) | undefined;

  constructor(
    readonly inner: MemoryLedgerStore,
    withReadState: boolean,
  ) {
    if (withReadState) {
      this.readState = async (taskIds, vmIds) => {
        this.log.push(`readState(${taskIds.join(',')}; ${vmIds.join(',')})`);
        const head = await inner.readHead();
        const [tasks, reservations] = await Promise.all([
          inner.getTasks(taskIds),
          inner.getReservations(vmIds),
        ]);
        return { head, tasks, reservations };
      };
    }
  }

  async readHead(): Promise<ChainHead> {
    this.log.push('readHead');
    return this.inner.readHead();
  }
  async append(expected: ChainHead, commit: Commit): Promise<AppendResult> {
    const before = this.beforeAppend;
    this.beforeAppend = undefined;
    await before?.();
    const result = await this.inner.append(expected, commit);
    this.log.push(result.ok ? 'append' : `append:${result.conflict}`);
    return result;
  }
  getBlocks(from: number, limit: number): Promise<Block[]> {
    this.log.push('getBlocks');
    return this.inner.getBlocks(from, limit);
  }
  getBlock(height: number): Promise<Block | null> {
    this.log.push('getBlock');
    return this.inner.getBlock(height);
  }
  findTransaction(transactionId: string) {
    this.log.push('findTransaction');
    return this.inner.findTransaction(transactionId);
  }
  getTask(taskId: string): Promise<TaskRecord | null> {
    this.log.push(`getTask(${taskId})`);
    return this.inner.getTask(taskId);
  }
  getTasks(taskIds: readonly string[]): Promise<(TaskRecord | null)[]> {
    this.log.push(`getTasks(${taskIds.join(',')})`);
    return this.inner.getTasks(taskIds);
  }
  listExpiredLeases(before: number, limit: number): Promise<TaskRecord[]> {
    this.log.push('listExpiredLeases');
    return this.inner.listExpiredLeases(before, limit);
  }
  getReservations(vmIds?: readonly string[]): Promise<Reservation[]> {
    this.log.push(`getReservations(${vmIds ? vmIds.join(',') : '*'})`);
    return this.inner.getReservations(vmIds);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const CAPACITY = { cpu: 1000, mem: 1000 };

/**
 * A ledger that already holds reservations on `vm-old` (a VM that has left the fleet) and 900 cpu on
 * `vm-a`, and an engine on the current fleet (`vm-a`, `vm-b`) reading it through a CountingStore.
 */
async function ledgerWithHistory(withReadState: boolean) {
  const inner = new MemoryLedgerStore();
  const clock = new ManualClock(T0);
  const earlier = makeEngine(inner, new FakeFleet([vm('vm-old', CAPACITY)]), clock);
  await earlier.schedule([task('old-1', { cpu: 100 })]);
  const onA = makeEngine(inner, new FakeFleet([vm('vm-a', CAPACITY)]), clock);
  await onA.schedule([task('big', { cpu: 900 }, { duration: 600 })]);

  const store = new CountingStore(inner, withReadState);
  const fleet = new FakeFleet([vm('vm-a', CAPACITY), vm('vm-b', { cpu: 150, mem: 1000 })]);
  const engine = makeEngine(store, fleet, clock, { leaseGraceSeconds: 10 });
  return { inner, store, clock, engine, onA };
}

describe('SchedulingEngine reads only the VMs that matter', () => {
  it('without readState: placement reads the fleet VMs by id, closings the VMs of the open tasks; never every VM', async () => {
    const { store, clock, engine } = await ledgerWithHistory(false);

    // 200 cpu fits neither vm-a (900 of 1000 reserved, as only the ledger knows) nor vm-b (150).
    const placed = await engine.schedule([
      task('small', { cpu: 100 }, { duration: 20 }),
      task('wide', { cpu: 200 }),
    ]);
    expect(placed.decisions.map((d) => [d.task.id, d.status, d.vmId])).toEqual([
      ['small', 'assigned', 'vm-b'],
    ]);
    expect(placed.deferred?.map((d) => d.task.id)).toEqual(['wide']);
    expect(store.log).toEqual(['readHead', 'getTasks(small,wide)', 'getReservations(vm-a,vm-b)', 'append']);

    store.log.length = 0;
    expect(await engine.complete('big')).toMatchObject({ status: 'closed' });
    expect(store.log).toEqual(['readHead', 'getTasks(big)', 'getReservations(vm-a)', 'append']);

    store.log.length = 0;
    clock.advance(30_000);
    const expired = await engine.expireLeases();
    expect(expired.map((t) => [t.task_id, t.vm_id])).toEqual([['small', 'vm-b']]);
    expect(store.log).toEqual([
      'listExpiredLeases',
      'readHead',
      'getTasks(small)',
      'getReservations(vm-b)',
      'append',
    ]);

    expect(await store.inner.getReservations()).toMatchObject([
      { vm_id: 'vm-a', reserved: { cpu: 0 }, active_tasks: 0 },
      { vm_id: 'vm-b', reserved: { cpu: 0 }, active_tasks: 0 },
      { vm_id: 'vm-old', reserved: { cpu: 100 }, active_tasks: 1 },
    ]);
  });

  it('with readState: one read per attempt for placement and expiry, no other store read', async () => {
    const { store, clock, engine } = await ledgerWithHistory(true);

    const placed = await engine.schedule([
      task('small', { cpu: 100 }, { duration: 20 }),
      task('wide', { cpu: 200 }),
    ]);
    expect(placed.decisions.map((d) => [d.task.id, d.status, d.vmId])).toEqual([
      ['small', 'assigned', 'vm-b'],
    ]);
    expect(store.log).toEqual(['readState(small,wide; vm-a,vm-b)', 'append']);

    store.log.length = 0;
    clock.advance(30_000);
    await engine.expireLeases();
    expect(store.log).toEqual(['listExpiredLeases', 'readState(small; vm-b)', 'append']);

    // complete knows only the task id: its VM is read once, after the head, then with it on a retry.
    store.log.length = 0;
    expect(await engine.complete('big')).toMatchObject({ status: 'closed' });
    expect(store.log).toEqual(['readState(big; )', 'getReservations(vm-a)', 'append']);
  });

  it('with readState: a retry after another writer won reads the closing VM with the head', async () => {
    const { store, engine, onA } = await ledgerWithHistory(true);
    store.beforeAppend = async () => {
      await onA.schedule([task('rival', { cpu: 50 })]);
    };

    expect(await engine.complete('big')).toMatchObject({ status: 'closed' });
    expect(store.log).toEqual([
      'readState(big; )',
      'getReservations(vm-a)',
      'append:head-moved',
      'readState(big; vm-a)',
      'append',
    ]);
    // The retry decided on the rival's reservation: only 'big' was released.
    expect(await store.inner.getReservations(['vm-a'])).toMatchObject([
      { vm_id: 'vm-a', reserved: { cpu: 50 }, active_tasks: 1 },
    ]);
  });

  it('with readState: placement retries on the state the winner left', async () => {
    const { store, engine } = await ledgerWithHistory(true);
    // A rival takes vm-b's room (the first choice: vm-a is 90% reserved) before the engine's append lands.
    const rival = makeEngine(
      store.inner,
      new FakeFleet([vm('vm-b', { cpu: 150, mem: 1000 })]),
      new ManualClock(T0),
    );
    store.beforeAppend = async () => {
      await rival.schedule([task('rival', { cpu: 100 })]);
    };

    const placed = await engine.schedule([task('small', { cpu: 100 })]);
    expect(placed.attempts).toBe(2);
    expect(placed.decisions.map((d) => [d.task.id, d.status, d.vmId])).toEqual([
      ['small', 'assigned', 'vm-a'],
    ]);
    expect(store.log).toEqual([
      'readState(small; vm-a,vm-b)',
      'append:head-moved',
      'readState(small; vm-a,vm-b)',
      'append',
    ]);
  });
});
