import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import { syntheticWorkload } from '../../../lib/simulation/synthetic';

describe('synthetic workload', () => {
  it('is a pure function of its options', () => {
    const a = syntheticWorkload({ vms: 20, tasks: 300, load: 0.8, seed: 7 });
    const b = syntheticWorkload({ vms: 20, tasks: 300, load: 0.8, seed: 7 });
    const c = syntheticWorkload({ vms: 20, tasks: 300, load: 0.8, seed: 8 });
    expect(b).toEqual(a);
    expect(c.arrivals.map((x) => x.task.requirements)).not.toEqual(
      a.arrivals.map((x) => x.task.requirements),
    );
  });

  it.each([0.5, 0.8, 0.95])('offers exactly load %s in the busiest dimension', (load) => {
    const w = syntheticWorkload({ vms: 30, tasks: 2000, load, seed: 1 });
    const first = w.arrivals[0]!.at;
    const windowMs = w.arrivals[w.arrivals.length - 1]!.at - first;
    const offered = w.dimensions.map((d) => {
      const work = w.arrivals.reduce((s, a) => s + a.task.requirements[d]! * a.task.duration * 1000, 0);
      const capacity = w.vms.reduce((s, vm) => s + vm.capacity[d]!, 0);
      return work / (capacity * windowMs);
    });
    // Arrivals are drawn inside the window, so first-to-last spans slightly less of it than the whole.
    expect(Math.max(...offered)).toBeGreaterThanOrEqual(load);
    expect(Math.max(...offered)).toBeLessThan(load * 1.02);
  });

  it('gives every task a deadline after it could finish and arrivals in time order', () => {
    const w = syntheticWorkload({ vms: 5, tasks: 500, load: 0.9, seed: 3, slackMin: 0.5, slackMax: 1 });
    for (const { at, task } of w.arrivals) {
      expect(task.submittedAt).toBe(at);
      expect(task.deadline * 1000).toBeGreaterThanOrEqual(at + task.duration * 1000 * 1.5);
      // Every task fits the smallest VM, so only contention, never size, can keep it waiting.
      for (const d of w.dimensions) {
        expect(task.requirements[d]).toBeLessThanOrEqual(Math.min(...w.vms.map((vm) => vm.capacity[d]!)));
      }
    }
    const times = w.arrivals.map((a) => a.at);
    expect(times).toEqual([...times].sort((x, y) => x - y));
  });

  it('rejects bad options naming the field', () => {
    expect(() => syntheticWorkload({ vms: 0, tasks: 10, load: 0.5, seed: 1 })).toThrow(ValidationError);
    expect(() => syntheticWorkload({ vms: 1, tasks: 10, load: -1, seed: 1 })).toThrow(/load/);
  });
});
