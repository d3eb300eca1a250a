import { describe, expect, it } from 'vitest';
import { activeInstances, backlogPerInstance, desiredInstances } from '../../../lib/scaling/backlog';

const active = { state: 'active' } as const;
const draining = { state: 'draining' } as const;

describe('backlogPerInstance', () => {
  it.each([
    // [backlog, fleet, expected]: hand calculation in the name
    [12, [active, active, active], 4], // 12 / 3
    [12, [active, draining, active], 6], // draining VMs take no tasks: 12 / 2
    [5, [active, active], 2.5], // fractions are kept: CloudWatch takes doubles
    [0, [active], 0],
    [7, [], 7], // no VM: the whole backlog per (future) instance
    [7, [draining, draining], 7], // no active VM: same
    [0, [], 0], // nothing queued, nothing running: 0, not NaN
  ])('%d queued on %j is %d', (backlog, vms, expected) => {
    expect(backlogPerInstance(backlog, vms)).toBe(expected);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('refuses backlog %d', (backlog) => {
    expect(() => backlogPerInstance(backlog, [active])).toThrow(RangeError);
  });

  it('counts active VMs only', () => {
    expect(activeInstances([active, draining, active, draining])).toBe(2);
  });
});

describe('desiredInstances', () => {
  it.each([
    [100, 10, 0, 10], // 100 / 10
    [101, 10, 0, 11], // one task over rounds up
    [0, 10, 0, 0],
    [0, 10, 2, 2], // never below min
    [3, 10, 0, 1],
  ])('backlog %d at target %d (min %d) wants %d VMs', (backlog, target, min, expected) => {
    expect(desiredInstances(backlog, target, min)).toBe(expected);
  });

  it.each([0, -1, Number.NaN])('refuses target %d', (target) => {
    expect(() => desiredInstances(1, target)).toThrow(RangeError);
  });
});
