import { describe, expect, it } from 'vitest';
import type { Task } from '../../../lib/model/task';
import type { Vm } from '../../../lib/model/vm';
import { algorithmNames } from '../../../lib/scheduling/registry';
import { Scheduler } from '../../../lib/scheduling/schedule';
import { simulate } from '../../../lib/simulation/simulator';
import { syntheticWorkload } from '../../../lib/simulation/synthetic';
import { SIMULATION_EPOCH_MS, type Workload } from '../../../lib/simulation/types';

const bestFit = () => new Scheduler({ algorithm: 'best-fit' });

function vm(id: string, cpu: number): Vm {
  return {
    id,
    capacity: { cpu },
    reserved: { cpu: 0 },
    usage: { cpu: 0 },
    history: [],
    activeTasks: 0,
    labels: {},
    state: 'active',
  };
}

/** Tasks given as [arrival second, cpu, duration s, deadline slack s]. */
function workload(vms: Vm[], tasks: [number, number, number, number][]): Workload {
  return {
    name: 'hand-made',
    dimensions: ['cpu'],
    vms,
    hasDeadlines: true,
    arrivals: tasks.map(([at, cpu, duration, slack], i) => {
      const ms = SIMULATION_EPOCH_MS + at * 1000;
      const task: Task = {
        id: `t${i}`,
        requirements: { cpu },
        duration,
        deadline: ms / 1000 + duration + slack,
        priority: 0,
        submittedAt: ms,
        labels: {},
        constraints: {},
      };
      return { at: ms, task };
    }),
  };
}

describe('simulate', () => {
  it('conserves tasks: placed + rejected = tasks, under both pending policies', () => {
    const w = syntheticWorkload({ vms: 10, tasks: 1500, load: 1.3, seed: 11 });
    for (const pending of ['wait', 'reject'] as const) {
      const r = simulate(w, { placer: bestFit(), pending, departures: true });
      expect(r.tasks).toBe(1500);
      expect(r.placed + r.rejected).toBe(r.tasks);
      // Overload guarantees some rejections, so the identity above is not vacuous.
      expect(r.rejected).toBeGreaterThan(0);
      expect(r.successRate).toBeCloseTo(r.placed / r.tasks, 12);
    }
  });

  it('a waiting task is placed when capacity frees, or rejected when its deadline passes first', () => {
    // One VM of 1000; t0 holds all of it for 100 s. t1 (deadline 1 + 10 + 200 = 211 s) waits, starts
    // at 100 s and finishes in time. t2's deadline (5 + 10 + 50 = 65 s) passes while it waits: rejected.
    const w = workload(
      [vm('a', 1000)],
      [
        [0, 1000, 100, 0],
        [1, 600, 10, 200],
        [5, 400, 10, 50],
      ],
    );
    const r = simulate(w, { placer: bestFit(), pending: 'wait', departures: true });
    expect({ placed: r.placed, rejected: r.rejected }).toEqual({ placed: 2, rejected: 1 });
    // t1 waited from 1 s to 100 s.
    expect(r.meanWaitSeconds).toBeCloseTo((0 + 99) / 2, 9);
    expect(r.deadlineCompliance).toBe(1);
  });

  it('rejects a waiting task once its latest start passes, instead of placing it to finish late', () => {
    // t1's deadline is 1 + 10 + 95 = 106 s, so its latest start is 96 s; capacity frees at 100 s.
    // t2's is 2 + 10 + 98 = 110 s, latest start exactly 100 s: placed just in time.
    const w = workload(
      [vm('a', 1000), vm('b', 100)],
      [
        [0, 1000, 100, 0],
        [1, 600, 10, 95],
        [2, 400, 10, 98],
      ],
    );
    const r = simulate(w, { placer: bestFit(), pending: 'wait', departures: true });
    expect({ placed: r.placed, rejected: r.rejected }).toEqual({ placed: 2, rejected: 1 });
    expect(r.deadlineCompliance).toBe(1);
  });

  it('rejects for its deadline a task that arrives unable to finish in time, never placing it', () => {
    const w = workload([vm('a', 1000)], [[0, 10, 100, -1]]);
    const r = simulate(w, { placer: bestFit(), pending: 'wait', departures: true });
    expect({ placed: r.placed, rejected: r.rejected }).toEqual({ placed: 0, rejected: 1 });
  });

  it('rejects at once under the reject policy', () => {
    const w = workload(
      [vm('a', 1000)],
      [
        [0, 1000, 100, 0],
        [1, 600, 10, 200],
      ],
    );
    const r = simulate(w, { placer: bestFit(), pending: 'reject', departures: true });
    expect({ placed: r.placed, rejected: r.rejected }).toEqual({ placed: 1, rejected: 1 });
  });

  it('without departures, allocation only grows and the final share is reported', () => {
    const w = workload(
      [vm('a', 1000), vm('b', 500)],
      [
        [0, 400, 1, 0],
        [1, 400, 1, 0],
        [2, 400, 1, 0],
        [3, 400, 1, 0],
      ],
    );
    const r = simulate(w, { placer: bestFit(), pending: 'reject', departures: false });
    // a takes two (800), b one (400); the fourth fits nowhere.
    expect(r.placed).toBe(3);
    expect(r.allocatedShare.cpu).toBeCloseTo(1200 / 1500, 12);
    expect(r.deadlineCompliance).toBeNull();
  });

  it('is deterministic: the same workload and seed give the same result, even for p2c', () => {
    const w = syntheticWorkload({ vms: 8, tasks: 800, load: 0.95, seed: 5 });
    const run = () =>
      simulate(w, {
        placer: new Scheduler({ algorithm: 'p2c', seed: 9 }),
        pending: 'wait',
        departures: true,
      });
    expect(run()).toEqual(run());
  });

  it.each(algorithmNames())('conserves tasks and stays within capacity under %s', (algorithm) => {
    const w = syntheticWorkload({ vms: 12, tasks: 600, load: 1.1, seed: 2 });
    const r = simulate(w, {
      placer: new Scheduler({ algorithm, seed: 1 }),
      pending: 'wait',
      departures: true,
    });
    expect(r.placed + r.rejected).toBe(600);
    expect(r.placed).toBeGreaterThan(0);
    for (const share of Object.values(r.allocatedShare)) expect(share).toBeLessThanOrEqual(1);
    expect(r.meanUtilisation).toBeGreaterThan(0);
    expect(r.meanUtilisation).toBeLessThanOrEqual(1);
  });

  it('with a large/small mix, reports each size, and backfilling conserves tasks and keeps a deterministic result', () => {
    const w = syntheticWorkload({ vms: 8, tasks: 600, load: 0.9, seed: 3, largeShare: 0.1 });
    const sizes = new Set(w.arrivals.map((a) => a.task.labels.size));
    expect(sizes).toEqual(new Set(['large', 'small']));
    const run = (backfillSeconds?: number) =>
      simulate(w, {
        placer: bestFit(),
        pending: 'wait',
        departures: true,
        ...(backfillSeconds === undefined ? {} : { backfillSeconds }),
      });
    for (const r of [run(), run(60)]) {
      expect(r.placed + r.rejected).toBe(600);
      const { large, small } = r.byClass!;
      expect(large!.tasks + small!.tasks).toBe(600);
      expect(large!.placed + small!.placed).toBe(r.placed);
      expect(large!.p99WaitSeconds).toEqual(expect.any(Number));
    }
    expect(run(60)).toEqual(run(60));
    // No mix, no classes, and the workload's draws are those it had before the option existed.
    const plain = syntheticWorkload({ vms: 8, tasks: 50, load: 0.9, seed: 3 });
    expect(plain.arrivals.every((a) => Object.keys(a.task.labels).length === 0)).toBe(true);
    expect(simulate(plain, { placer: bestFit(), pending: 'wait', departures: true }).byClass).toBeUndefined();
  });

  it('samples fleet metrics as arrivals find them, not during the drain after the last one', () => {
    // Two tasks of 500 on one VM of 1000: the first runs from 0 to 300 s, the second arrives at
    // 200 s. Sampled after 1 arrival (utilisation 0.5) and after 2 (1.0); the idle drain after
    // 300 s is not sampled.
    const w = workload(
      [vm('a', 1000)],
      [
        [0, 500, 300, 0],
        [200, 500, 100, 0],
      ],
    );
    const r = simulate(w, { placer: bestFit(), pending: 'reject', departures: true, samples: 5 });
    expect(r.meanUtilisation).toBeCloseTo((0.5 + 1) / 2, 12);
  });

  it('spreads samples over the arrivals', () => {
    // Four tasks of 250, each running 1000 s: after k arrivals the VM holds k x 250. Samples after arrivals 1, 2, 3 and 4 see 0.25, 0.5, 0.75 and 1.
    const w = workload(
      [vm('a', 1000)],
      [
        [0, 250, 1000, 0],
        [1, 250, 1000, 0],
        [2, 250, 1000, 0],
        [3, 250, 1000, 0],
      ],
    );
    const r = simulate(w, { placer: bestFit(), pending: 'reject', departures: true, samples: 4 });
    expect(r.meanUtilisation).toBeCloseTo((0.25 + 0.5 + 0.75 + 1) / 4, 12);
    // Two samples: after the first and the last arrival.
    const two = simulate(w, { placer: bestFit(), pending: 'reject', departures: true, samples: 2 });
    expect(two.meanUtilisation).toBeCloseTo((0.25 + 1) / 2, 12);
  });
});
