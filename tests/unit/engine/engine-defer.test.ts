import { describe, expect, it } from 'vitest';
import { algorithmNames } from '../../../lib/scheduling/registry';
import { chain, setup, T0, task, vm } from './helpers';

/** Transactions of the chain as [task id, status, reason], genesis left out. */
async function recorded(store: Parameters<typeof chain>[0]): Promise<[string, string, string][]> {
  return (await chain(store)).flatMap((b) =>
    b.transactions.map((t) => [t.task_id, t.status, t.reason] as [string, string, string]),
  );
}

describe.each(algorithmNames())('waiting for capacity with %s', (algorithm) => {
  it('defers a task that fits a VM but not its free room, rejects one that never fits, and writes only decisions', async () => {
    const { store, engine } = setup(
      [
        vm('vm-a', { cpu: 1000, mem: 1000 }, { labels: { zone: 'a' } }),
        vm('vm-b', { cpu: 500, mem: 1000 }, { labels: { zone: 'b' } }),
      ],
      { algorithm },
    );
    await engine.schedule([task('fill-a', { cpu: 800 }, { constraints: { zone: 'a' } })]);

    const outcome = await engine.schedule([
      task('wait', { cpu: 600 }),
      task('too-big', { cpu: 1001 }),
      task('no-zone', { cpu: 1 }, { constraints: { zone: 'z' } }),
      task('fits-b', { cpu: 100 }, { constraints: { zone: 'b' } }),
    ]);

    expect(outcome.deferred?.map((d) => d.task.id)).toEqual(['wait']);
    expect(outcome.deferred![0]!.reason).toMatch(
      /^no feasible VM: needs cpu 600 millicores, largest free is 500$/,
    );
    expect(Object.fromEntries(outcome.decisions.map((d) => [d.task.id, [d.status, d.rejection]]))).toEqual({
      'too-big': ['rejected', 'never-fits'],
      'no-zone': ['rejected', 'constraints'],
      'fits-b': ['assigned', undefined],
    });
    const ledger = await recorded(store);
    expect(ledger.map(([id, status]) => [id, status]).sort()).toEqual([
      ['fill-a', 'assigned'],
      ['fits-b', 'assigned'],
      ['no-zone', 'rejected'],
      ['too-big', 'rejected'],
    ]);
    expect(await store.getTask('wait')).toBeNull();
  });

  it('places a deferred task once its room is freed', async () => {
    const { store, engine, clock } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], { algorithm });
    await engine.schedule([task('running', { cpu: 700 })]);
    expect((await engine.schedule([task('waiting', { cpu: 700 })])).deferred).toHaveLength(1);

    clock.advance(30_000);
    await engine.complete('running');
    const outcome = await engine.schedule([task('waiting', { cpu: 700 })]);

    expect(outcome.deferred).toEqual([]);
    expect(outcome.decisions).toMatchObject([{ task: { id: 'waiting' }, status: 'assigned', vmId: 'vm-a' }]);
    expect(await store.getTask('waiting')).toMatchObject({ status: 'assigned', vm_id: 'vm-a' });
  });

  it('records a rejection once the wait passes maxWaitSeconds, saying how long', async () => {
    const { store, engine, clock } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], {
      algorithm,
      maxWaitSeconds: 60,
    });
    await engine.schedule([task('running', { cpu: 700 })]);
    const waiting = task('waiting', { cpu: 700 }, { submittedAt: T0 });

    clock.set(T0 + 59_999);
    expect((await engine.schedule([waiting])).deferred).toHaveLength(1);
    clock.set(T0 + 60_000);
    const outcome = await engine.schedule([waiting]);

    expect(outcome.deferred).toEqual([]);
    expect(outcome.decisions).toMatchObject([{ status: 'rejected', rejection: 'capacity' }]);
    const [, , reason] = (await recorded(store)).find(([id]) => id === 'waiting')!;
    expect(reason).toBe(
      'no capacity within 60 s: no feasible VM: needs cpu 700 millicores, largest free is 300',
    );
  });

  it('rejects a waiting task whose deadline passes before room frees', async () => {
    const { store, engine, clock } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], { algorithm });
    await engine.schedule([task('running', { cpu: 700 })]);
    const waiting = task('waiting', { cpu: 700 }, { deadline: T0 / 1000 + 120, duration: 10 });
    expect((await engine.schedule([waiting])).deferred).toHaveLength(1);

    clock.set(T0 + 120_000);
    const outcome = await engine.schedule([waiting]);

    expect(outcome.decisions).toMatchObject([{ status: 'rejected', rejection: 'deadline' }]);
    expect(outcome.decisions[0]!.reason).toMatch(/^deadline passed: /);
    expect(await store.getTask('waiting')).toMatchObject({ status: 'rejected' });
  });

  it('rejects at once, as before, with maxWaitSeconds 0', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], { algorithm, maxWaitSeconds: 0 });
    await engine.schedule([task('running', { cpu: 700 })]);
    const outcome = await engine.schedule([task('no-room', { cpu: 700 })]);
    expect(outcome.deferred).toEqual([]);
    expect(await store.getTask('no-room')).toMatchObject({ status: 'rejected' });
  });
});

describe('waiting for capacity with urgency', () => {
  it('still rejects a task whose deadline cannot be met even if started now, rather than defer it', async () => {
    const { store, engine } = setup([vm('vm-a', { cpu: 1000, mem: 1000 })], { algorithm: 'urgency' });
    await engine.schedule([task('running', { cpu: 700 })]);
    const outcome = await engine.schedule([
      task('late', { cpu: 700 }, { deadline: T0 / 1000 + 60, duration: 120 }),
    ]);
    expect(outcome.deferred).toEqual([]);
    expect(outcome.decisions).toMatchObject([{ status: 'rejected', rejection: 'deadline' }]);
    expect(outcome.decisions[0]!.reason).toMatch(/^deadline cannot be met/);
    expect(await store.getTask('late')).toMatchObject({ status: 'rejected' });
  });
});
