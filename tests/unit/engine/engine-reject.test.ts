import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import { transactionId, verifyChain } from '../../../lib/ledger';
import type { FleetSource } from '../../../lib/ports/fleet-source';
import { chain, makeEngine, setup, T0, task, vm } from './helpers';

const REASON = 'not committed after 5 deliveries: compare-and-set attempts exhausted';

describe('SchedulingEngine.reject', () => {
  it('records each new task as rejected with the reason, holding no lease or reservation', async () => {
    // Prepare: a VM with room, so the rejection is not the algorithm's.
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], { blockSize: 2 });
    const tasks = ['a', 'b', 'c'].map((id) => task(id, { cpu: 10 }));

    // Act
    const outcome = await engine.reject(tasks, REASON);

    // Assess
    expect(outcome.decisions.map((d) => [d.task.id, d.status, d.vmId, d.reason])).toEqual([
      ['a', 'rejected', null, REASON],
      ['b', 'rejected', null, REASON],
      ['c', 'rejected', null, REASON],
    ]);
    expect(outcome.blocks.map((b) => b.transaction_count)).toEqual([2, 1]);
    const blocks = await chain(store);
    expect(await verifyChain(blocks, { expectedHead: outcome.head })).toMatchObject({ valid: true });
    for (const tx of blocks.flatMap((b) => b.transactions)) {
      expect(tx).toMatchObject({
        transaction_id: transactionId(tx.task_id, 'decision'),
        status: 'rejected',
        vm_id: null,
        score: null,
        reason: REASON,
        vm_state_before: null,
        vm_state_after: null,
      });
    }
    expect(await store.getTask('b')).toMatchObject({
      status: 'rejected',
      vm_id: null,
      lease_expires_at: null,
      updated_at: T0,
    });
    expect(await store.getReservations()).toEqual([]);
  });

  it('does not ask the fleet, so it works when the fleet source is what failed', async () => {
    const { store, clock } = setup([]);
    const broken: FleetSource = {
      listVms: async () => {
        throw new Error('DescribeInstances throttled');
      },
    };
    const engine = makeEngine(store, broken, clock);
    await expect(engine.schedule([task('a', { cpu: 1 })])).rejects.toThrow('throttled');
    const outcome = await engine.reject([task('a', { cpu: 1 })], REASON);
    expect(outcome.decisions).toHaveLength(1);
    expect(await store.getTask('a')).toMatchObject({ status: 'rejected' });
  });

  it('writes nothing for a task already recorded and reports its record', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    await engine.schedule([task('placed', { cpu: 100 })]);
    const head = await store.readHead();

    const outcome = await engine.reject([task('placed', { cpu: 100 }), task('placed', { cpu: 100 })], REASON);

    expect(outcome).toMatchObject({ decisions: [], blocks: [], head });
    expect(outcome.duplicates.sort()).toEqual(['placed', 'placed']);
    expect(outcome.recorded).toMatchObject([{ task_id: 'placed', status: 'assigned', vm_id: 'vm-a' }]);
    expect(await store.readHead()).toEqual(head);
  });

  it('reports the records of tasks schedule finds already in the ledger', async () => {
    const { engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })]);
    await engine.schedule([task('huge', { cpu: 5000 })]);
    const again = await engine.schedule([task('huge', { cpu: 5000 }), task('new', { cpu: 1 })]);
    expect(again.duplicates).toEqual(['huge']);
    expect(again.recorded).toMatchObject([
      { task_id: 'huge', status: 'rejected', transaction_id: transactionId('huge', 'decision') },
    ]);
  });

  it.each([
    ['an empty reason', ''],
    ['a reason longer than a transaction may hold', 'x'.repeat(4097)],
  ])('refuses %s, naming the field and writing nothing', async (_name, reason) => {
    const { store, engine } = setup([]);
    const error = await engine.reject([task('a', { cpu: 1 })], reason).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual(['reason']);
    expect((await store.readHead()).height).toBe(0);
  });
});
