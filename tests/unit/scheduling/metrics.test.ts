import { describe, expect, it } from 'vitest';
import {
  fleetMetrics,
  fragmentation,
  loadImbalance,
  meanRequirements,
  meanUtilisation,
  utilisation,
} from '../../../lib/scheduling/metrics';
import { task, vm } from './fixtures';

const DIMS2 = ['cpu', 'mem'];
const at = (id: string, cpu: number, mem: number, state: 'active' | 'draining' = 'active') =>
  vm(id, { capacity: { cpu: 4000, mem: 8000 }, reserved: { cpu, mem }, state }, DIMS2);

describe('utilisation', () => {
  it.each([
    // mean(1000 / 4000, 6000 / 8000) = mean(0.25, 0.75) = 0.5
    { v: at('a', 1000, 6000), u: 0.5 },
    { v: at('a', 0, 0), u: 0 },
    { v: at('a', 4000, 8000), u: 1 },
    // gpu capacity 0 is left out: 2000 / 4000 = 0.5
    {
      v: vm('g', { capacity: { cpu: 4000, gpu: 0 }, reserved: { cpu: 2000 } }, ['cpu', 'gpu']),
      u: 0.5,
      dims: ['cpu', 'gpu'],
    },
    // no capacity anywhere: 0, not NaN
    { v: vm('z', { capacity: {} }, DIMS2), u: 0 },
  ])('is $u', ({ v, u, dims }) => {
    expect(utilisation(v, dims ?? DIMS2)).toBeCloseTo(u, 12);
  });
});

describe('meanUtilisation and loadImbalance', () => {
  it('are the mean and coefficient of variation over active VMs', () => {
    // utilisations 0.25, 0.75 (active) and 1 (draining, left out)
    const vms = [at('a', 1000, 2000), at('b', 3000, 6000), at('c', 4000, 8000, 'draining')];
    // mean 0.5; population sd sqrt(((0.25 - 0.5)^2 + (0.75 - 0.5)^2) / 2) = 0.25; CV = 0.25 / 0.5 = 0.5
    expect(meanUtilisation(vms, DIMS2)).toBeCloseTo(0.5, 12);
    expect(loadImbalance(vms, DIMS2)).toBeCloseTo(0.5, 12);
  });

  it('are 0 for an evenly loaded, an idle and an empty fleet', () => {
    expect(loadImbalance([at('a', 2000, 4000), at('b', 2000, 4000)], DIMS2)).toBe(0);
    expect(loadImbalance([at('a', 0, 0), at('b', 0, 0)], DIMS2)).toBe(0);
    expect(loadImbalance([], DIMS2)).toBe(0);
    expect(meanUtilisation([], DIMS2)).toBe(0);
  });
});

describe('fragmentation', () => {
  it('is the share of free capacity stranded on VMs where the probe no longer fits', () => {
    const vms = [at('roomy', 0, 0), at('stranded', 3500, 4000), at('drain', 0, 0, 'draining')];
    const probe = { cpu: 1000, mem: 1000 };
    // free cpu: roomy 4000, stranded 500 (1000 does not fit) -> stranded share 500 / 4500
    // free mem: roomy 8000, stranded 4000 (on the same VM)  -> 4000 / 12000
    // mean(1/9, 1/3) = 2/9; the draining VM's room is not on offer
    expect(fragmentation(vms, DIMS2, probe)).toBeCloseTo((500 / 4500 + 4000 / 12_000) / 2, 12);
  });

  it('is 0 when all free room can take the probe, and 0 when nothing is free', () => {
    expect(fragmentation([at('a', 1000, 1000), at('b', 0, 0)], DIMS2, { cpu: 100, mem: 100 })).toBe(0);
    expect(fragmentation([at('a', 4000, 8000)], DIMS2, { cpu: 100, mem: 100 })).toBe(0);
  });

  it('is 1 when no VM can take the probe', () => {
    expect(fragmentation([at('a', 3900, 0), at('b', 3950, 0)], DIMS2, { cpu: 200, mem: 0 })).toBe(1);
  });

  it('takes a probe from the mean of recent tasks', () => {
    const tasks = [
      task('a', { cpu: 100, mem: 300 }, {}, DIMS2),
      task('b', { cpu: 300, mem: 100 }, {}, DIMS2),
    ];
    expect(meanRequirements(tasks, DIMS2)).toEqual({ cpu: 200, mem: 200 });
    expect(meanRequirements([], DIMS2)).toEqual({ cpu: 0, mem: 0 });
  });
});

describe('fleetMetrics', () => {
  it('bundles the measures, fragmentation only with a probe', () => {
    const vms = [at('a', 1000, 2000), at('b', 3000, 6000)];
    expect(fleetMetrics(vms, DIMS2)).toEqual({
      utilisation: [0.25, 0.75],
      meanUtilisation: 0.5,
      loadImbalance: 0.5,
      fragmentation: null,
    });
    // 1001 millicores fit on a (free 3000) but not on b (free 1000): b's room is stranded.
    // cpu 1000 / (3000 + 1000) = 0.25, mem 2000 / (6000 + 2000) = 0.25 -> 0.25
    expect(fleetMetrics(vms, DIMS2, { cpu: 1001, mem: 0 }).fragmentation).toBeCloseTo(0.25, 12);
  });
});
