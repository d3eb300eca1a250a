import { describe, expect, it } from 'vitest';
import type { Task } from '../../../lib/model/task';
import type { Vm } from '../../../lib/model/vm';
import { FleetState } from '../../../lib/scheduling/fleet-state';
import { Scheduler, scheduleBatch } from '../../../lib/scheduling/schedule';
import type { ScheduleOptions } from '../../../lib/scheduling/types';
import { DIMS, NOW, NOW_S, task, vm, workedExampleVm } from './fixtures';

const placements = (tasks: Task[], vms: Vm[], algorithm: string, options: Partial<ScheduleOptions> = {}) =>
  scheduleBatch(tasks, vms, algorithm, { now: NOW, ...options }).map(
    (d) => `${d.task.id}:${d.vmId ?? 'none'}`,
  );

const idle = (...ids: string[]) => ids.map((id) => vm(id));
const small = (n: number) => Array.from({ length: n }, (_, i) => task(`t${i}`, { cpu: 100 }));

describe('round-robin', () => {
  it('rotates through the VMs in order', () => {
    expect(placements(small(5), idle('a', 'b', 'c'), 'round-robin')).toEqual([
      't0:a',
      't1:b',
      't2:c',
      't3:a',
      't4:b',
    ]);
  });

  it('skips VMs that are infeasible without losing its place', () => {
    const vms = [vm('a'), vm('b', { state: 'draining' }), vm('c'), vm('d', { reserved: { cpu: 4000 } })];
    expect(placements(small(3), vms, 'round-robin')).toEqual(['t0:a', 't1:c', 't2:a']);
  });

  it('carries its cursor from one batch to the next', () => {
    const scheduler = new Scheduler({ algorithm: 'round-robin' });
    const fleet = FleetState.from(idle('a', 'b', 'c'), DIMS);
    const first = scheduler.schedule([task('x', { cpu: 1 })], fleet, NOW);
    const second = scheduler.schedule([task('y', { cpu: 1 }), task('z', { cpu: 1 })], fleet, NOW);
    expect([...first, ...second].map((d) => d.vmId)).toEqual(['a', 'b', 'c']);
  });
});

describe('least-connections', () => {
  it('picks the VM with the fewest active tasks', () => {
    const vms = [vm('a', { activeTasks: 3 }), vm('b', { activeTasks: 1 }), vm('c', { activeTasks: 2 })];
    const [decision] = scheduleBatch([task('t', { cpu: 1 })], vms, 'least-connections', { now: NOW });
    expect(decision).toMatchObject({ vmId: 'b', score: 1 / (1 + 1) });
  });

  it('counts the tasks it places, then breaks ties by the lower committed share', () => {
    const vms = [
      vm('a', { activeTasks: 1, reserved: { cpu: 2000 } }),
      vm('b', { activeTasks: 0, reserved: { cpu: 1000 } }),
    ];
    // t0 -> b (0 tasks); now both have 1: a has cpu 2000 + 100, b 1000 + 100 + 100 -> b again; then b has 2 -> a.
    expect(placements(small(3), vms, 'least-connections')).toEqual(['t0:b', 't1:b', 't2:a']);
  });
});

describe('best-fit', () => {
  it('picks the VM the task fits most tightly', () => {
    const vms = [
      vm('roomy', { reserved: { cpu: 3000 } }),
      vm('tight', { reserved: { cpu: 3400 } }),
      vm('middle', { reserved: { cpu: 3200 } }),
      vm('too-tight', { reserved: { cpu: 3600 } }),
    ];
    // free cpu 1000, 600, 800, 400 for a 500-millicore task: 600 leaves the least behind.
    expect(placements([task('t', { cpu: 500 })], vms, 'best-fit')).toEqual(['t:tight']);
  });

  it('counts leftovers in every dimension', () => {
    const vms = [
      vm('cpu-tight', { reserved: { cpu: 3500 } }),
      vm('both-tight', { reserved: { cpu: 3600, mem: 7000 } }),
    ];
    expect(placements([task('t', { cpu: 300, mem: 1000 })], vms, 'best-fit')).toEqual(['t:both-tight']);
  });
});

describe('least-loaded', () => {
  it('picks the lowest committed share after placement, relative to each VM', () => {
    const vms = [
      vm('a', { capacity: { cpu: 4000, mem: 4000, io: 100, bw: 100 }, reserved: { cpu: 1000, mem: 1000 } }),
      vm('b', { capacity: { cpu: 8000, mem: 8000, io: 100, bw: 100 }, reserved: { cpu: 2500, mem: 2500 } }),
    ];
    // a: mean(2000/4000, 2000/4000, 0, 0) = 0.25; b: mean(3500/8000, 3500/8000, 0, 0) = 0.21875
    const [decision] = scheduleBatch([task('t', { cpu: 1000, mem: 1000 })], vms, 'least-loaded', {
      now: NOW,
    });
    expect(decision).toMatchObject({ vmId: 'b' });
    expect(decision!.score).toBeCloseTo(1 - 0.21875, 12);
  });

  it('spreads a batch instead of stacking it', () => {
    expect(placements(small(4), idle('a', 'b'), 'least-loaded')).toEqual(['t0:a', 't1:b', 't2:a', 't3:b']);
  });
});

describe('resource-based', () => {
  const vms = [
    vm('small-idle', { capacity: { cpu: 2000, mem: 2000, io: 100, bw: 100 } }),
    vm('big-half', {
      capacity: { cpu: 8000, mem: 8000, io: 100, bw: 100 },
      reserved: { cpu: 4000, mem: 4000 },
    }),
  ];

  it('prefers the most free resources in absolute terms, where least-loaded prefers the emptier VM', () => {
    const t = task('t', { cpu: 500, mem: 500 });
    expect(placements([t], vms, 'resource-based')).toEqual(['t:big-half']);
    expect(placements([t], vms, 'least-loaded')).toEqual(['t:small-idle']);
  });

  it('counts measured usage above the reservations as used', () => {
    const busy = [vms[0]!, { ...vms[1]!, usage: { cpu: 7500, mem: 7500, io: 0, bw: 0 } }];
    expect(placements([task('t', { cpu: 500, mem: 500 })], busy, 'resource-based')).toEqual(['t:small-idle']);
  });

  it('follows the configured weights', () => {
    const shaped = [
      vm('cpu-rich', { capacity: { cpu: 8000, mem: 1000, io: 100, bw: 100 } }),
      vm('mem-rich', { capacity: { cpu: 1000, mem: 8000, io: 100, bw: 100 } }),
    ];
    const t = task('t', { cpu: 100, mem: 100 });
    expect(placements([t], shaped, 'resource-based', { params: { weights: { cpu: 10 } } })).toEqual([
      't:cpu-rich',
    ]);
    expect(placements([t], shaped, 'resource-based', { params: { weights: { mem: 10 } } })).toEqual([
      't:mem-rich',
    ]);
  });
});

describe('p2c', () => {
  const fleet = Array.from({ length: 20 }, (_, i) => vm(`vm-${i}`));
  const batch = small(10);

  it('repeats itself with one seed', () => {
    expect(placements(batch, fleet, 'p2c', { seed: 42 })).toEqual(
      placements(batch, fleet, 'p2c', { seed: 42 }),
    );
  });

  it('differs across seeds', () => {
    const outcomes = new Set(
      Array.from({ length: 8 }, (_, seed) => placements(batch, fleet, 'p2c', { seed }).join()),
    );
    expect(outcomes.size).toBeGreaterThan(1);
  });

  it('takes the less loaded of the two it draws', () => {
    const two = [vm('loaded', { reserved: { cpu: 3000 } }), vm('light', { reserved: { cpu: 500 } })];
    for (let seed = 0; seed < 10; seed++) {
      expect(placements([task('t', { cpu: 100 })], two, 'p2c', { seed })).toEqual(['t:light']);
    }
  });
});

describe('urgency', () => {
  it('rejects a task whose deadline cannot be met, saying so', () => {
    // 100 s remain, the task needs 300 s.
    const late = task('late', { cpu: 1 }, { duration: 300, deadline: NOW_S + 100 });
    const [decision] = scheduleBatch([late], idle('a'), 'urgency', { now: NOW });
    expect(decision).toMatchObject({
      status: 'rejected',
      reason: `deadline cannot be met: needs 300 s, 100 s remain until deadline ${NOW_S + 100}`,
    });
  });

  it('accepts a task that finishes exactly at its deadline', () => {
    const exact = task('exact', { cpu: 1 }, { duration: 100, deadline: NOW_S + 100 });
    expect(placements([exact], idle('a'), 'urgency')).toEqual(['exact:a']);
  });

  it('decides earliest deadline first, priority breaking ties', () => {
    const tasks = [
      task('later', { cpu: 1 }, { deadline: NOW_S + 900 }),
      task('soon-low', { cpu: 1 }, { deadline: NOW_S + 300, priority: 0 }),
      task('soonest', { cpu: 1 }, { deadline: NOW_S + 200 }),
      task('soon-high', { cpu: 1 }, { deadline: NOW_S + 300, priority: 5 }),
    ];
    const order = scheduleBatch(tasks, idle('a'), 'urgency', { now: NOW }).map((d) => d.task.id);
    expect(order).toEqual(['soonest', 'soon-high', 'soon-low', 'later']);
  });

  it('gives the scarce room to the earliest deadline', () => {
    const tasks = [
      task('relaxed', { cpu: 3000 }, { deadline: NOW_S + 5000 }),
      task('urgent', { cpu: 3000 }, { deadline: NOW_S + 500 }),
    ];
    const decisions = scheduleBatch(tasks, idle('only'), 'urgency', { now: NOW });
    expect(decisions.map((d) => `${d.task.id}:${d.status}`)).toEqual(['urgent:assigned', 'relaxed:rejected']);
  });
});

describe('blockchain', () => {
  it('places on the highest UF/DW and records that score (worked example of docs/algorithms.md)', () => {
    const dims = ['cpu', 'mem'];
    const vms = [
      workedExampleVm(),
      // DW = (0.7 + 0.3) * mean(2000 / 4000, 4000 / 8000) = 0.5: lower score, not chosen
      vm('b', { capacity: { cpu: 4000, mem: 8000 }, usage: { cpu: 2000, mem: 4000 } }, dims),
    ];
    const t = task('t', { cpu: 100, mem: 100 }, { deadline: NOW_S + 200 }, dims);
    const [decision] = scheduleBatch([t], vms, 'blockchain', {
      now: NOW,
      params: { tau: 0.5 },
      dimensions: dims,
    });
    // UF = 1 / (0.5 * 200) = 0.01; DW(a) = 0.27625 (scoring.test.ts); score = 0.01 / 0.27625
    expect(decision).toMatchObject({ status: 'assigned', vmId: 'a' });
    expect(decision!.score).toBeCloseTo(0.01 / 0.27625, 12);
  });

  it('decides the most urgent task first and gives it the least loaded VM', () => {
    const vms = [
      vm('busy', { usage: { cpu: 3000, mem: 6000 } }),
      vm('quiet', { usage: { cpu: 200, mem: 400 } }),
    ];
    const tasks = [
      task('relaxed', { cpu: 1000 }, { deadline: NOW_S + 3600 }),
      task('urgent', { cpu: 1000 }, { deadline: NOW_S + 60 }),
    ];
    const decisions = scheduleBatch(tasks, vms, 'blockchain', { now: NOW });
    expect(decisions.map((d) => `${d.task.id}:${d.vmId}`)).toEqual(['urgent:quiet', 'relaxed:quiet']);
    // the urgent task scores higher: UF 1/60 against 1/3600 on similar DW
    expect(decisions[0]!.score!).toBeGreaterThan(decisions[1]!.score!);
  });

  it('weighs history by beta: a VM that was busy loses to one that was idle', () => {
    const vms = [
      vm('was-busy', { usage: { cpu: 400 }, history: [{ cpu: 4000, mem: 8192, io: 500, bw: 1000 }] }),
      vm('was-idle', { usage: { cpu: 800 }, history: [{ cpu: 0 }] }),
    ];
    const t = task('t', { cpu: 1 });
    // was-busy: current mean(400/4000, 0, 0, 0) = 0.025, historical mean(1, 1, 1, 1) = 1
    // was-idle: current mean(800/4000, 0, 0, 0) = 0.05,  historical 0
    // beta 0.3: DW 0.7*0.025 + 0.3*1 = 0.3175 vs 0.7*0.05 = 0.035 -> was-idle
    expect(placements([t], vms, 'blockchain')).toEqual(['t:was-idle']);
    // beta 0: DW 0.7*0.025 = 0.0175 vs 0.035 -> was-busy
    expect(placements([t], vms, 'blockchain', { params: { alpha: 0.7, beta: 0 } })).toEqual(['t:was-busy']);
  });

  it('places, with a finite score, a task whose deadline is less than a second away', () => {
    const [decision] = scheduleBatch(
      [task('nearly-due', { cpu: 1 }, { deadline: NOW_S + 0.5, duration: 0.5 })],
      idle('a'),
      'blockchain',
      { now: NOW },
    );
    expect(decision).toMatchObject({ status: 'assigned', vmId: 'a' });
    // time remaining floored at 1 s and DW (idle VM, then 0) floored at 0.001: 1 / 1 / 0.001 = 1000
    expect(decision!.score).toBeCloseTo(1000, 9);
  });

  it('rejects a task that would finish after its deadline, as every algorithm does (shared filter)', () => {
    const late = task('late', { cpu: 1 }, { duration: 300, deadline: NOW_S + 100 });
    const [decision] = scheduleBatch([late], idle('a'), 'blockchain', { now: NOW });
    expect(decision).toMatchObject({
      status: 'rejected',
      rejection: 'deadline',
      reason: `deadline cannot be met: needs 300 s, 100 s remain until deadline ${NOW_S + 100}`,
    });
  });
});
