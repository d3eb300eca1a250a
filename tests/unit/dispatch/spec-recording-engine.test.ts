import { describe, expect, it } from 'vitest';
import { SpecRecordingEngine, specsOf } from '../../../lib/dispatch/spec-recording-engine';
import { ledger, task, vm } from '../functions/helpers/fixtures';
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
