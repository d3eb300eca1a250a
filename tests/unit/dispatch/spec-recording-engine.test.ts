import { describe, expect, it } from 'vitest';
import { SpecRecordingEngine, specsOf } from '../../../lib/dispatch/spec-recording-engine';
import { ledger, T0, task, vm } from '../functions/helpers/fixtures';
import { MemoryDispatchRecords } from './fakes';

describe('SpecRecordingEngine', () => {
  it('writes the specs of tasks with a command or labels before their decisions are committed', async () => {
    const { store, engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
    const records = new MemoryDispatchRecords();
    const heightsAtPut: number[] = [];
    records.onPutSpecs = async () => {
      heightsAtPut.push((await store.readHead()).height);
    };
    const recording = new SpecRecordingEngine(engine, records);

    const outcome = await recording.schedule([
      task('cmd', { cpu: 100 }, { command: 'make test' }),
      task('labelled', { cpu: 100 }, { labels: { team: 'ml' } }),
      task('bare', { cpu: 100 }),
    ]);

    expect(outcome.decisions.map((d) => d.status)).toEqual(['assigned', 'assigned', 'assigned']);
    expect([...records.specs.values()]).toEqual([
      { task_id: 'cmd', command: 'make test', labels: {} },
      { task_id: 'labelled', labels: { team: 'ml' } },
    ]);
    // The head read when the specs were written is the genesis: nothing was committed yet.
    expect(heightsAtPut).toEqual([0]);
  });

  it('keeps the first spec of a task id (the ledger keeps its first decision too)', async () => {
    const { engine } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
    const records = new MemoryDispatchRecords();
    const recording = new SpecRecordingEngine(engine, records);

    await recording.schedule([task('t', { cpu: 100 }, { command: 'first' })]);
    const again = await recording.schedule([task('t', { cpu: 100 }, { command: 'second' })]);

    expect(again.duplicates).toEqual(['t']);
    expect(records.specs.get('t')?.command).toBe('first');
  });

  it("writes a waiting task's spec once: remembered in the container, looked up (not re-put) elsewhere once old enough", async () => {
    // No VM has room: every offer defers.
    const { engine, clock } = ledger([vm('vm-a', { cpu: 10, mem: 10, io: 10, bw: 10 })]);
    const records = new MemoryDispatchRecords();
    const puts: string[][] = [];
    records.onPutSpecs = (specs) => {
      puts.push(specs.map((s) => s.task_id));
    };
    const gets: string[][] = [];
    const getSpecs = records.getSpecs.bind(records);
    records.getSpecs = async (ids) => {
      gets.push([...ids]);
      return getSpecs(ids);
    };
    const waiting = task('big', { cpu: 8 }, { command: 'run' });
    const blocker = task('blocker', { cpu: 5 }, { duration: 3600 });
    const here = new SpecRecordingEngine(engine, records, { clock });
    await here.schedule([blocker]);
    expect((await here.schedule([waiting])).deferred?.map((d) => d.task.id)).toEqual(['big']);
    await here.schedule([waiting]);
    await here.schedule([waiting]);
    // First delivery: no look-up, one put; later offers in this container: nothing.
    expect(puts).toEqual([['big']]);
    expect(gets).toEqual([]);

    // Another container, the task now older than its first delivery: one read, no second put.
    clock.advance(60_000);
    const elsewhere = new SpecRecordingEngine(engine, records, { clock });
    await elsewhere.schedule([waiting]);
    await elsewhere.schedule([waiting]);
    expect(gets).toEqual([['big']]);
    expect(puts).toEqual([['big']]);

    // A young task is put without a look-up; an old one whose spec is missing is looked up, then put.
    const late = task('late', { cpu: 1 }, { labels: { a: 'b' }, submittedAt: T0 });
    await elsewhere.schedule([
      late,
      task('young', { cpu: 1 }, { labels: { a: 'b' }, submittedAt: clock.now() }),
    ]);
    expect(gets.at(-1)).toEqual(['late']);
    expect(puts.at(-1)).toEqual(['late', 'young']);
  });

  it('passes completion, expiry, rejection and algorithm changes through unchanged', async () => {
    const { store, engine, clock } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
    const recording = new SpecRecordingEngine(engine, new MemoryDispatchRecords());
    await recording.schedule([
      task('a', { cpu: 100 }, { duration: 10 }),
      task('b', { cpu: 100 }, { duration: 10 }),
    ]);

    expect((await recording.complete('a')).status).toBe('closed');
    clock.advance(71_000);
    expect((await recording.expireLeases()).map((t) => t.task_id)).toEqual(['b']);
    expect((await recording.reject?.([task('c', { cpu: 1 })], 'no'))?.decisions[0]?.status).toBe('rejected');
    recording.setAlgorithm('round-robin');
    expect(engine.algorithm).toBe('round-robin');
    expect((await store.getTask('a'))?.status).toBe('completed');
  });

  it('specsOf leaves out tasks the ledger record describes fully', () => {
    expect(specsOf([task('x', { cpu: 1 }), task('y', { cpu: 1 }, { labels: { a: 'b' } })])).toEqual([
      { task_id: 'y', labels: { a: 'b' } },
    ]);
  });
});
