import { describe, expect, it } from 'vitest';
import { fleetSpread, fraction } from '../../../web/src/fleet-stats';
import type { FleetVm } from '../../../web/src/wire';

function vm(
  id: string,
  capacity: Record<string, number>,
  reserved: Record<string, number>,
  state = 'active',
): FleetVm {
  return { id, state, capacity, reserved, usage: { ...reserved }, active_tasks: 0 };
}

describe('fraction', () => {
  it.each([
    // amount / capacity
    { amount: 1000, capacity: 4000, expected: 0.25 },
    // a missing amount is nothing reserved
    { amount: undefined, capacity: 4000, expected: 0 },
    // overcommitment stays visible above 1
    { amount: 5000, capacity: 4000, expected: 1.25 },
    // no capacity in that dimension: not a utilisation at all
    { amount: 0, capacity: 0, expected: null },
    { amount: 10, capacity: undefined, expected: null },
  ])('$amount of $capacity is $expected', ({ amount, capacity, expected }) => {
    expect(fraction(amount, capacity)).toBe(expected);
  });
});

describe('fleetSpread', () => {
  it('gives mean, min and max of reserved capacity per dimension', () => {
    const spread = fleetSpread(
      [
        vm('a', { cpu: 4000, mem: 1000 }, { cpu: 1000, mem: 100 }),
        vm('b', { cpu: 4000, mem: 1000 }, { cpu: 3000, mem: 900 }),
      ],
      ['cpu', 'mem'],
    );
    // cpu: 1000/4000 = 0.25 and 3000/4000 = 0.75 -> mean 0.5
    expect(spread.get('cpu')?.reserved).toEqual({ mean: 0.5, min: 0.25, max: 0.75 });
    // mem: 0.1 and 0.9 -> mean 0.5
    expect(spread.get('mem')?.reserved).toEqual({ mean: 0.5, min: 0.1, max: 0.9 });
  });

  it('leaves draining VMs out: they empty by design', () => {
    const spread = fleetSpread(
      [vm('a', { cpu: 100 }, { cpu: 50 }), vm('b', { cpu: 100 }, { cpu: 100 }, 'draining')],
      ['cpu'],
    );
    expect(spread.get('cpu')?.reserved).toEqual({ mean: 0.5, min: 0.5, max: 0.5 });
  });

  it('counts only the VMs that have a dimension (a CPU-only VM does not dilute the GPU mean)', () => {
    const spread = fleetSpread(
      [
        vm('cpu-only', { cpu: 100, gpu: 0 }, { cpu: 10, gpu: 0 }),
        vm('gpu', { cpu: 100, gpu: 1000 }, { cpu: 30, gpu: 800 }),
      ],
      ['cpu', 'gpu'],
    );
    expect(spread.get('gpu')?.reserved).toEqual({ mean: 0.8, min: 0.8, max: 0.8 });
    // cpu: 0.1 and 0.3 -> mean 0.2
    expect(spread.get('cpu')?.reserved.mean).toBeCloseTo(0.2, 12);
  });

  it('has no figures for an empty fleet rather than zeros', () => {
    expect(fleetSpread([], ['cpu']).get('cpu')).toEqual({
      reserved: { mean: null, min: null, max: null },
      usage: { mean: null, min: null, max: null },
    });
  });
});
