import { describe, expect, it } from 'vitest';
import {
  type AutoscalePolicyOptions,
  decideScaling,
  INITIAL_MEMORY,
  type ObservedVm,
  type PolicyMemory,
} from '../../../runtime/fleet/autoscaling-policy';

const OPTIONS: AutoscalePolicyOptions = {
  min: 2,
  max: 10,
  targetBacklogPerVm: 5,
  maxStep: 4,
  scaleOutWindowMs: 2000,
  scaleOutCooldownMs: 5000,
  scaleInWindowMs: 10_000,
  scaleInCooldownMs: 8000,
};

/** `busy[i]` tasks on vm-00(i+1); load is tasks / 10 so the idlest is the least busy. */
function fleet(busy: number[], state: ObservedVm['state'] = 'active'): ObservedVm[] {
  return busy.map((tasks, i) => ({
    id: `vm-${String(i + 1).padStart(3, '0')}`,
    state,
    activeTasks: tasks,
    load: tasks / 10,
  }));
}

/** Feeds the same observation at each time in `times`, carrying memory; returns every result. */
function run(times: number[], backlog: number, vms: ObservedVm[], memory: PolicyMemory = INITIAL_MEMORY) {
  const results = [];
  let m = memory;
  for (const now of times) {
    const r = decideScaling({ now, backlog, vms }, m, OPTIONS);
    m = r.memory;
    results.push(r);
  }
  return results;
}

describe('decideScaling: scale out', () => {
  it('holds until the backlog has stayed above target for the window, then adds ceil(backlog / target) - active', () => {
    // 3 VMs, backlog 24: 8 per VM > 5. Desired ceil(24 / 5) = 5, so 2 more.
    const [first, middle, due] = run([0, 1999, 2000], 24, fleet([1, 1, 1]));
    expect(first!.decision.action).toBe('hold');
    expect(first!.backlogPerVm).toBe(8);
    expect(middle!.decision.action).toBe('hold');
    expect(due!.decision).toMatchObject({ action: 'scale-out', count: 2 });
    expect(due!.memory.lastScaleOutAt).toBe(2000);
  });

  it('caps one step at maxStep', () => {
    // Backlog 100 on 2 VMs: desired 20, wanted 18, step 4.
    const [, due] = run([0, 2000], 100, fleet([0, 0]));
    expect(due!.decision).toMatchObject({ action: 'scale-out', count: 4 });
  });

  it('never grows the fleet past max, counting draining VMs', () => {
    // 6 active + 3 draining = 9 of max 10: room for 1, though desired is 20.
    const vms = [
      ...fleet([1, 1, 1, 1, 1, 1]),
      ...fleet([1, 1, 1], 'draining').map((v, i) => ({ ...v, id: `d-${i}` })),
    ];
    const [, due] = run([0, 2000], 100, vms);
    expect(due!.decision).toMatchObject({ action: 'scale-out', count: 1 });
    const full = [...vms, { id: 'x', state: 'active' as const, activeTasks: 1, load: 0.1 }];
    const [, atMax] = run([0, 2000], 100, full);
    expect(atMax!.decision.action).toBe('hold');
    expect(atMax!.decision.reason).toContain('maximum');
  });

  it('waits out the scale-out cooldown before adding again', () => {
    const vms = fleet([1, 1]);
    const results = run([0, 2000, 4000, 6999, 7000], 100, vms);
    expect(results.map((r) => r.decision.action)).toEqual(['hold', 'scale-out', 'hold', 'hold', 'scale-out']);
    expect(results[2]!.decision.reason).toBe('scale-out cooldown');
  });

  it('restarts the window when the backlog dips to target', () => {
    const vms = fleet([1, 1]);
    const [a] = run([0], 20, vms);
    const dip = decideScaling({ now: 1500, backlog: 10, vms }, a!.memory, OPTIONS); // exactly 5 per VM
    expect(dip.memory.aboveSince).toBeNull();
    const back = decideScaling({ now: 2500, backlog: 20, vms }, dip.memory, OPTIONS);
    expect(back.decision.action).toBe('hold');
    expect(back.memory.aboveSince).toBe(2500);
  });

  it('with no active VM, treats the whole backlog as one VM’s and scales from zero', () => {
    const [, due] = run([0, 2000], 12, [], { ...INITIAL_MEMORY });
    // Below min first: min (2) applies at once, before any window.
    expect(due!.decision.action).toBe('scale-out');
    const opts = { ...OPTIONS, min: 0 };
    const first = decideScaling({ now: 0, backlog: 12, vms: [] }, INITIAL_MEMORY, opts);
    expect(first.backlogPerVm).toBe(12);
    const later = decideScaling({ now: 2000, backlog: 12, vms: [] }, first.memory, opts);
    // ceil(12 / 5) = 3.
    expect(later.decision).toMatchObject({ action: 'scale-out', count: 3 });
  });
});

describe('decideScaling: bounds', () => {
  it('brings the fleet up to min at once, ignoring window and cooldown', () => {
    const memory = { ...INITIAL_MEMORY, lastScaleOutAt: 0 };
    const r = decideScaling({ now: 1, backlog: 0, vms: fleet([0]) }, memory, OPTIONS);
    expect(r.decision).toMatchObject({ action: 'scale-out', count: 1 });
  });

  it('drains idle VMs above max at once', () => {
    const vms = fleet([0, 3, 0, 2, 0, 1, 1, 1, 1, 1, 1, 1]);
    const r = decideScaling({ now: 0, backlog: 1000, vms }, INITIAL_MEMORY, OPTIONS);
    // 12 active, max 10: two idle ones, newest first among equal load.
    expect(r.decision).toEqual({
      action: 'scale-in',
      drain: ['vm-005', 'vm-003'],
      reason: '12 active VMs, above the maximum 10',
    });
  });
});

describe('decideScaling: scale in', () => {
  it('after the window below target, drains the idlest idle VMs down to the desired count, never below min', () => {
    // 6 VMs, backlog 0: desired = min = 2, surplus 4; VMs 2, 4 and 6 hold tasks, so only 1, 3, 5 go.
    const vms = fleet([0, 2, 0, 1, 0, 3]);
    const results = run([0, 9999, 10_000], 0, vms);
    expect(results[1]!.decision.action).toBe('hold');
    expect(results[2]!.decision).toMatchObject({ action: 'scale-in', drain: ['vm-005', 'vm-003', 'vm-001'] });
  });

  it('never chooses a VM holding a task, even when nothing else is left to drain', () => {
    const vms = fleet([1, 1, 1, 1]);
    const [, due] = run([0, 10_000], 0, vms);
    expect(due!.decision).toEqual({ action: 'hold', reason: 'no idle VM to drain' });
  });

  it('skips protected VMs', () => {
    const vms = fleet([0, 0, 0]).map((vm) => ({ ...vm, protected: vm.id !== 'vm-001' }));
    // Unprotected, vm-003 (newest) would go; protected, only vm-001 may.
    const [, due] = run([0, 10_000], 0, vms);
    expect(due!.decision).toMatchObject({ action: 'scale-in', drain: ['vm-001'] });
  });

  it('prefers the least loaded among idle VMs', () => {
    const vms: ObservedVm[] = [
      { id: 'a', state: 'active', activeTasks: 0, load: 0.2 },
      { id: 'b', state: 'active', activeTasks: 0, load: 0 },
      { id: 'c', state: 'active', activeTasks: 0, load: 0.1 },
    ];
    const opts = { ...OPTIONS, min: 2 };
    const first = decideScaling({ now: 0, backlog: 0, vms }, INITIAL_MEMORY, opts);
    const due = decideScaling({ now: 10_000, backlog: 0, vms }, first.memory, opts);
    expect(due.decision).toMatchObject({ action: 'scale-in', drain: ['b'] });
  });

  it('keeps enough VMs for the backlog: desired ceil(backlog / target)', () => {
    // 8 idle VMs, backlog 16: 2 per VM < 5; desired ceil(16 / 5) = 4, so drain 4 (maxStep 4).
    const vms = fleet([0, 0, 0, 0, 0, 0, 0, 0]);
    const [, due] = run([0, 10_000], 16, vms);
    expect(due!.decision.action).toBe('scale-in');
    if (due!.decision.action === 'scale-in') expect(due!.decision.drain).toHaveLength(4);
  });

  it('holds at min', () => {
    const [, due] = run([0, 10_000], 0, fleet([0, 0]));
    expect(due!.decision).toEqual({ action: 'hold', reason: 'at the minimum of 2 VMs' });
  });

  it('waits out the scale-in cooldown', () => {
    const vms = fleet([0, 0, 0, 0, 0, 0, 0, 0]);
    const results = run([0, 10_000, 17_999, 18_000], 0, vms);
    expect(results.map((r) => r.decision.action)).toEqual(['hold', 'scale-in', 'hold', 'scale-in']);
    expect(results[2]!.decision.reason).toBe('scale-in cooldown');
  });

  it('does not count draining VMs as active or drain them again', () => {
    const vms = [...fleet([0, 0]), ...fleet([0, 0], 'draining').map((v, i) => ({ ...v, id: `d-${i}` }))];
    const [, due] = run([0, 10_000], 0, vms);
    expect(due!.active).toBe(2);
    expect(due!.decision.action).toBe('hold');
  });
});

describe('decideScaling: input', () => {
  it('refuses a backlog that is not a finite count', () => {
    expect(() => decideScaling({ now: 0, backlog: Number.NaN, vms: [] }, INITIAL_MEMORY, OPTIONS)).toThrow(
      RangeError,
    );
  });
});
