import { describe, expect, it } from 'vitest';
import { setup, T0, task, vm } from './helpers';

/**
 * The engine with quarantined VMs: placement goes on on the others, and a task that only a
 * quarantined VM could hold waits (deferred, nothing written) instead of being rejected for good,
 * since the VM may be repaired; past max wait it is rejected like any task short of room.
 */
describe('engine with a quarantined VM', () => {
  it('places on the healthy VMs and reports the quarantined one', async () => {
    const { engine, store } = setup([
      vm('bad', { cpu: 1e-9, mem: 1000 }),
      vm('good', { cpu: 1000, mem: 1000 }),
    ]);
    const outcome = await engine.schedule([task('t', { cpu: 10 })]);
    expect(outcome.decisions.map((d) => [d.status, d.vmId])).toEqual([['assigned', 'good']]);
    expect(outcome.quarantined).toEqual([
      { vm_id: 'bad', reason: 'capacity.cpu: must be 0 or at least 0.000001' },
    ]);
    expect((await store.getTask('t'))?.vm_id).toBe('good');
  });

  it('defers, not rejects, a task no healthy VM can hold while a VM is quarantined', async () => {
    const { engine, store, fleet, clock } = setup([vm('only', { cpu: 1000, mem: 1e-9 })], {
      maxWaitSeconds: 60,
    });
    const first = await engine.schedule([task('t', { cpu: 10 })]);
    expect(first.decisions).toEqual([]);
    expect(first.deferred?.map((d) => d.task.id)).toEqual(['t']);
    expect(await store.getTask('t')).toBeNull();

    // Repaired: the task is placed.
    fleet.vms = [vm('only', { cpu: 1000, mem: 1000 })];
    clock.set(T0 + 10_000);
    const second = await engine.schedule([task('t', { cpu: 10 })]);
    expect(second.decisions.map((d) => [d.status, d.vmId])).toEqual([['assigned', 'only']]);
  });

  it('rejects such a task once its wait is over, saying so', async () => {
    const { engine, clock } = setup([vm('only', { cpu: 1000, mem: 1e-9 })], { maxWaitSeconds: 60 });
    clock.set(T0 + 61_000);
    const outcome = await engine.schedule([task('t', { cpu: 10 })]);
    expect(outcome.decisions).toHaveLength(1);
    expect(outcome.decisions[0]).toMatchObject({ status: 'rejected' });
    expect(outcome.decisions[0]!.reason).toMatch(/^no capacity within 60 s: /);
  });

  it('still rejects at once a task too big for every VM when none is quarantined', async () => {
    const { engine } = setup([vm('only', { cpu: 1000, mem: 1000 })], { maxWaitSeconds: 60 });
    const outcome = await engine.schedule([task('t', { cpu: 5000 })]);
    expect(outcome.decisions.map((d) => d.status)).toEqual(['rejected']);
    expect(outcome.deferred).toEqual([]);
  });
});
