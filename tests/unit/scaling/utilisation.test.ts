import { describe, expect, it } from 'vitest';
import type { VmState } from '../../../lib/model/vm';
import { BINDING, utilisation } from '../../../lib/scaling/utilisation';

const vm = (
  capacity: Record<string, number>,
  reserved: Record<string, number>,
  state: VmState = 'active',
) => ({
  capacity,
  reserved,
  state,
});

describe('utilisation', () => {
  it('summarises reserved / capacity per dimension and the binding dimension per VM', () => {
    const stats = utilisation(
      [
        vm({ cpu: 4000, mem: 8192 }, { cpu: 1000, mem: 6144 }), // cpu 0.25, mem 0.75, binding 0.75
        vm({ cpu: 2000, mem: 4096 }, { cpu: 2000, mem: 1024 }), // cpu 1.0, mem 0.25, binding 1.0
      ],
      ['cpu', 'mem'],
    );
    expect(stats).toEqual([
      { dimension: 'cpu', count: 2, sum: 1.25, min: 0.25, max: 1 },
      { dimension: 'mem', count: 2, sum: 1, min: 0.25, max: 0.75 },
      { dimension: BINDING, count: 2, sum: 1.75, min: 0.75, max: 1 },
    ]);
  });

  it('leaves draining VMs out', () => {
    const stats = utilisation(
      [vm({ cpu: 1000 }, { cpu: 500 }), vm({ cpu: 1000 }, { cpu: 1000 }, 'draining')],
      ['cpu'],
    );
    // only the active VM: 500 / 1000
    expect(stats).toEqual([
      { dimension: 'cpu', count: 1, sum: 0.5, min: 0.5, max: 0.5 },
      { dimension: BINDING, count: 1, sum: 0.5, min: 0.5, max: 0.5 },
    ]);
  });

  it('skips a dimension a VM does not provide and omits one no VM provides', () => {
    const stats = utilisation(
      [vm({ cpu: 1000, gpu: 0 }, { cpu: 250, gpu: 0 }), vm({ cpu: 1000, gpu: 2000 }, { cpu: 0, gpu: 1000 })],
      ['cpu', 'gpu', 'fpga'],
    );
    // gpu counts the second VM only (1000 / 2000); fpga: nobody has it, so no entry (no NaN to publish)
    expect(stats).toEqual([
      { dimension: 'cpu', count: 2, sum: 0.25, min: 0, max: 0.25 },
      { dimension: 'gpu', count: 1, sum: 0.5, min: 0.5, max: 0.5 },
      { dimension: BINDING, count: 2, sum: 0.75, min: 0.25, max: 0.5 },
    ]);
  });

  it('is empty for a fleet with no active VM', () => {
    expect(utilisation([vm({ cpu: 1000 }, { cpu: 0 }, 'draining')], ['cpu'])).toEqual([]);
    expect(utilisation([], ['cpu'])).toEqual([]);
  });
});
