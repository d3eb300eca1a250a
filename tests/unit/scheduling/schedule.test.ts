import { describe, expect, it } from 'vitest';
import { SchedulerError, ValidationError } from '../../../lib/errors';
import type { Task } from '../../../lib/model/task';
import { UnknownAlgorithmError } from '../../../lib/scheduling/errors';
import { FleetState } from '../../../lib/scheduling/fleet-state';
import { Scheduler, scheduleBatch } from '../../../lib/scheduling/schedule';
import { DEFAULT_PARAMS } from '../../../lib/scheduling/types';
import { DIMS, NOW, NOW_S, task, vm } from './fixtures';

describe('scheduleBatch', () => {
  it('returns decisions in decision order: the algorithm order when it has one, else input order', () => {
    const tasks = [
      task('later', { cpu: 1 }, { deadline: NOW_S + 900 }),
      task('sooner', { cpu: 1 }, { deadline: NOW_S + 90 }),
    ];
    const ids = (algorithm: string) =>
      scheduleBatch(tasks, [vm('a')], algorithm, { now: NOW }).map((d) => d.task.id);
    expect(ids('blockchain')).toEqual(['sooner', 'later']);
    expect(ids('urgency')).toEqual(['sooner', 'later']);
    expect(ids('least-loaded')).toEqual(['later', 'sooner']);
  });

  it('chains snapshots: a VM’s before is its previous after', () => {
    const decisions = scheduleBatch(
      [task('x', { cpu: 100 }), task('y', { cpu: 200 })],
      [vm('a')],
      'round-robin',
      {
        now: NOW,
      },
    );
    expect(decisions[0]!.before!.reserved.cpu).toBe(0);
    expect(decisions[0]!.after!.reserved.cpu).toBe(100);
    expect(decisions[1]!.before).toEqual(decisions[0]!.after);
    expect(decisions[1]!.after).toMatchObject({ reserved: { cpu: 300 }, active_tasks: 2 });
  });

  it('takes the dimensions from the first VM unless told', () => {
    const vms = [vm('a', { capacity: { cpu: 100 } }, ['cpu'])];
    const [decision] = scheduleBatch([task('t', { cpu: 50 }, {}, ['cpu'])], vms, 'best-fit', { now: NOW });
    expect(decision).toMatchObject({ status: 'assigned', after: { reserved: { cpu: 50 } } });
  });

  it('rejects, writing nothing, a task that needs a dimension the fleet does not schedule', () => {
    const t: Task = { ...task('gpu-job', { cpu: 1 }), requirements: { cpu: 1, gpu: 500 } };
    const [decision] = scheduleBatch([t], [vm('a')], 'least-loaded', { now: NOW, dimensions: DIMS });
    expect(decision).toMatchObject({
      status: 'rejected',
      reason: 'requires gpu 500, a dimension this fleet does not schedule (cpu, mem, io, bw)',
    });
  });

  it('ignores a zero requirement in an unscheduled dimension', () => {
    const t: Task = { ...task('t', { cpu: 1 }), requirements: { cpu: 1, gpu: 0 } };
    expect(scheduleBatch([t], [vm('a')], 'least-loaded', { now: NOW, dimensions: DIMS })[0]!.status).toBe(
      'assigned',
    );
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 2e9, 0.1234567])(
    'rejects a requirement of %d without touching the fleet',
    (cpu) => {
      const scheduler = new Scheduler({ algorithm: 'least-loaded' });
      const fleet = FleetState.from([vm('a')], DIMS);
      const t: Task = { ...task('bad', {}), requirements: { cpu, mem: 0, io: 0, bw: 0 } };
      const [decision] = scheduler.schedule([t], fleet, NOW);
      expect(decision!.status).toBe('rejected');
      expect(decision!.reason).toMatch(
        /^invalid requirement cpu: must be a number from 0 to 1000000000 with at most 6 decimal places/,
      );
      expect([...fleet.reserved]).toEqual([0, 0, 0, 0]);
      expect(fleet.activeTasks[0]).toBe(0);
    },
  );

  it('refuses bad parameters before deciding anything', () => {
    expect(() =>
      scheduleBatch([task('t', { cpu: 1 })], [vm('a')], 'blockchain', { now: NOW, params: { tau: -1 } }),
    ).toThrow(ValidationError);
    expect(() => scheduleBatch([task('t', { cpu: 1 })], [vm('a')], 'nope', { now: NOW })).toThrow(
      UnknownAlgorithmError,
    );
  });
});

describe('Scheduler', () => {
  it('reserves in the FleetState it is given', () => {
    const fleet = FleetState.from([vm('a')], DIMS);
    new Scheduler({ algorithm: 'best-fit' }).schedule([task('t', { cpu: 250, mem: 512 })], fleet, NOW);
    expect(fleet.snapshot(0)).toMatchObject({ reserved: { cpu: 250, mem: 512 }, active_tasks: 1 });
  });

  it('switches algorithm keeping the current parameters unless given new ones', () => {
    const scheduler = new Scheduler({ algorithm: 'blockchain', params: { tau: 3 } });
    scheduler.setAlgorithm('urgency');
    expect(scheduler.algorithm).toBe('urgency');
    expect(scheduler.params).toEqual({ ...DEFAULT_PARAMS, tau: 3 });
    scheduler.setAlgorithm('blockchain', { alpha: 0.5 });
    expect(scheduler.params).toEqual({ ...DEFAULT_PARAMS, tau: 3, alpha: 0.5 });
    scheduler.setAlgorithm('blockchain', { alpha: undefined, beta: 0.1 });
    expect(scheduler.params).toEqual({ ...DEFAULT_PARAMS, tau: 3, alpha: 0.5, beta: 0.1 });
  });

  it('changes nothing when the new algorithm or parameters are invalid', () => {
    const scheduler = new Scheduler({ algorithm: 'round-robin' });
    expect(() => scheduler.setAlgorithm('bogus')).toThrow(UnknownAlgorithmError);
    expect(() => scheduler.setAlgorithm('blockchain', { historyWindow: 0 })).toThrow('params.historyWindow');
    expect(scheduler.algorithm).toBe('round-robin');
    expect(scheduler.params).toEqual(DEFAULT_PARAMS);
  });

  it('refuses a fleet laid out on other dimensions than it was configured with', () => {
    const scheduler = new Scheduler({ algorithm: 'least-loaded', dimensions: ['cpu', 'mem'] });
    expect(() => scheduler.schedule([], FleetState.from([vm('a')], DIMS), NOW)).toThrow(SchedulerError);
  });

  it('refuses a weight for a dimension the fleet does not schedule', () => {
    const scheduler = new Scheduler({
      algorithm: 'resource-based',
      params: { weights: { cpu: 2, cpuu: 1 } },
    });
    const fleet = FleetState.from([vm('a')], DIMS);
    expect(() => scheduler.schedule([task('t', { cpu: 1 })], fleet, NOW)).toThrow(
      'params.weights.cpuu: not a scheduled dimension (cpu, mem, io, bw)',
    );
    expect(fleet.activeTasks[0]).toBe(0);
  });

  it('refuses a non-finite now', () => {
    const scheduler = new Scheduler({ algorithm: 'least-loaded' });
    expect(() => scheduler.schedule([], FleetState.from([], DIMS), Number.NaN)).toThrow('now');
  });

  it('decides a duplicated task object twice rather than dropping one', () => {
    const t = task('same', { cpu: 1 });
    expect(
      new Scheduler({ algorithm: 'urgency' }).schedule([t, t], FleetState.from([vm('a')], DIMS), NOW),
    ).toHaveLength(2);
  });
});
