import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetState } from '../../../lib/scheduling/fleet-state';
import {
  bestFitScore,
  blockchainScore,
  DW_MIN,
  dynamicWeight,
  highestResourceScore,
  lowestDynamicWeight,
  lowestLeftover,
  lowestLoadAfter,
  MIN_TIME_REMAINING_S,
  reservedLoadAfter,
  resourceDemandTerm,
  resourceFactors,
  resourceScore,
  scaledDemand,
  urgencyFactor,
} from '../../../lib/scheduling/scoring';
import { NOW, vm, workedExampleVm } from './fixtures';

const CPU_MEM = ['cpu', 'mem'];

// The worked example of docs/algorithms.md.
const worked = workedExampleVm();

describe('dynamicWeight', () => {
  it('is alpha * current + beta * historical, usage plus reservations over capacity, mean over dimensions', () => {
    const fleet = FleetState.from([worked], CPU_MEM, 10);
    // current    = mean((1000 + 400) / 4000, (1000 + 800) / 8000) = mean(0.35, 0.225) = 0.2875
    // historical = history means cpu 800, mem 800:
    //              mean((800 + 400) / 4000, (800 + 800) / 8000)   = mean(0.3, 0.2)    = 0.25
    // DW         = 0.7 * 0.2875 + 0.3 * 0.25 = 0.20125 + 0.075 = 0.27625
    expect(dynamicWeight(fleet, 0, 0.7, 0.3)).toBeCloseTo(0.27625, 12);
  });

  it('averages only the last historyWindow samples', () => {
    const fleet = FleetState.from([worked], CPU_MEM, 1);
    // historical from the last sample only: mean((1000 + 400) / 4000, (1200 + 800) / 8000) = mean(0.35, 0.25) = 0.3
    // DW = 0.7 * 0.2875 + 0.3 * 0.3 = 0.20125 + 0.09 = 0.29125
    expect(dynamicWeight(fleet, 0, 0.7, 0.3)).toBeCloseTo(0.29125, 12);
  });

  it('takes current usage as the history of a VM that has none yet', () => {
    const fleet = FleetState.from(
      [vm('a', { capacity: { cpu: 1000, mem: 1000 }, usage: { cpu: 500 } }, CPU_MEM)],
      CPU_MEM,
    );
    // current = historical = mean(500 / 1000, 0 / 1000) = 0.25; DW = (0.7 + 0.3) * 0.25
    expect(dynamicWeight(fleet, 0, 0.7, 0.3)).toBeCloseTo(0.25, 12);
  });

  it('leaves out dimensions the VM has no capacity in', () => {
    const dims = ['cpu', 'gpu'];
    const fleet = FleetState.from(
      [vm('a', { capacity: { cpu: 1000, gpu: 0 }, usage: { cpu: 500 } }, dims)],
      dims,
    );
    // gpu capacity 0 is skipped: current = 500 / 1000 = 0.5, not mean(0.5, 0) = 0.25
    expect(dynamicWeight(fleet, 0, 1, 0)).toBeCloseTo(0.5, 12);
  });

  it('is 0 for a VM with no capacity at all, not NaN', () => {
    const fleet = FleetState.from([vm('a', { capacity: {} }, CPU_MEM)], CPU_MEM);
    expect(dynamicWeight(fleet, 0, 0.7, 0.3)).toBe(0);
  });
});

describe('urgencyFactor and blockchainScore', () => {
  it.each([
    // 1 / (0.5 * 200) = 0.01
    { remaining: 200, tau: 0.5, uf: 0.01 },
    // 1 / (1 * 3600) = 2.777...e-4
    { remaining: 3600, tau: 1, uf: 1 / 3600 },
    // past the deadline: time remaining floored at 1 s, 1 / (2 * 1) = 0.5
    { remaining: -50, tau: 2, uf: 0.5 },
    // due right now: floored too, 1 / (1 * 1) = 1
    { remaining: 0, tau: 1, uf: 1 },
  ])('UF with $remaining s remaining and tau $tau is $uf', ({ remaining, tau, uf }) => {
    expect(urgencyFactor(NOW / 1000 + remaining, NOW, tau)).toBeCloseTo(uf, 12);
  });

  it('floors time remaining at MIN_TIME_REMAINING_S and DW at DW_MIN so scores stay finite', () => {
    expect(MIN_TIME_REMAINING_S).toBe(1);
    // worked example: UF 0.01 / DW 0.27625 = 0.036199...
    expect(blockchainScore(0.01, 0.27625)).toBeCloseTo(0.01 / 0.27625, 15);
    // an idle VM (DW 0): 0.01 / 0.001 = 10
    expect(blockchainScore(0.01, 0)).toBeCloseTo(0.01 / DW_MIN, 12);
    expect(Number.isFinite(blockchainScore(urgencyFactor(0, NOW, 1e-9), 0))).toBe(true);
  });
});

describe('reservedLoadAfter', () => {
  it.each([
    // mean((1000 + 1000) / 4000, (2048 + 2048) / 8192) = mean(0.5, 0.5) = 0.5
    { reserved: { cpu: 1000, mem: 2048 }, demand: [1000, 2048], load: 0.5 },
    // mean((0 + 4000) / 4000, (0 + 0) / 8192) = mean(1, 0) = 0.5
    { reserved: {}, demand: [4000, 0], load: 0.5 },
    // mean((3000 + 0) / 4000, (8192 + 0) / 8192) = mean(0.75, 1) = 0.875
    { reserved: { cpu: 3000, mem: 8192 }, demand: [0, 0], load: 0.875 },
  ])('is $load with reserved $reserved plus $demand', ({ reserved, demand, load }) => {
    const fleet = FleetState.from(
      [vm('a', { capacity: { cpu: 4000, mem: 8192 }, reserved }, CPU_MEM)],
      CPU_MEM,
    );
    expect(reservedLoadAfter(fleet, 0, Float64Array.from(demand))).toBeCloseTo(load, 12);
  });

  it('takes the unrolled path with four dimensions and agrees with the definition', () => {
    const fleet = FleetState.from(
      [vm('a', { reserved: { cpu: 1000, mem: 0, io: 250, bw: 100 } })],
      ['cpu', 'mem', 'io', 'bw'],
    );
    // capacity 4000, 8192, 500, 1000: mean((1000 + 1000) / 4000, 4096 / 8192, (250 + 0) / 500, (100 + 400) / 1000)
    //   = mean(0.5, 0.5, 0.5, 0.5) = 0.5
    expect(reservedLoadAfter(fleet, 0, Float64Array.from([1000, 4096, 0, 400]))).toBeCloseTo(0.5, 12);
  });
});

describe('bestFitScore', () => {
  it('scores leftovers on the scale of the largest VM, so the absolute tightest fit wins', () => {
    const fleet = FleetState.from(
      [
        vm('big', { capacity: { cpu: 8000, mem: 16_000 }, reserved: { cpu: 6000, mem: 12_000 } }, CPU_MEM),
        vm('small', { capacity: { cpu: 2000, mem: 4000 } }, CPU_MEM),
      ],
      CPU_MEM,
    );
    const demand = Float64Array.from([1000, 2000]);
    const scaled = scaledDemand(fleet, demand);
    // max capacity cpu 8000, mem 16000.
    // big:   leftover (8000 - 6000 - 1000) / 8000 + (16000 - 12000 - 2000) / 16000 = 0.125 + 0.125 = 0.25 -> 1 - 0.25 / 2 = 0.875
    // small: leftover (2000 - 1000) / 8000 + (4000 - 2000) / 16000          = 0.125 + 0.125 = 0.25 -> 0.875
    expect(bestFitScore(fleet, 0, scaled)).toBeCloseTo(0.875, 12);
    expect(bestFitScore(fleet, 1, scaled)).toBeCloseTo(0.875, 12);
    // half the demand on big: (8000 - 6000 - 500) / 8000 + (16000 - 12000 - 1000) / 16000 = 0.1875 + 0.1875 = 0.375
    //   -> 1 - 0.375 / 2 = 0.8125
    const half = scaledDemand(fleet, Float64Array.from([500, 1000]));
    expect(bestFitScore(fleet, 0, half)).toBeCloseTo(0.8125, 12);
  });
});

describe('resourceScore', () => {
  it('weighs free capacity after placement, counting the larger of reserved and measured usage as used', () => {
    const fleet = FleetState.from(
      [
        vm(
          'a',
          {
            capacity: { cpu: 4000, mem: 8000 },
            reserved: { cpu: 1000, mem: 1000 },
            usage: { cpu: 500, mem: 3000 },
          },
          CPU_MEM,
        ),
      ],
      CPU_MEM,
    );
    const factors = resourceFactors(fleet, Float64Array.from([3, 1]));
    const demand = Float64Array.from([1000, 1000]);
    const demandTerm = resourceDemandTerm(factors, demand);
    // used = max(reserved, usage): cpu 1000, mem 3000. free after: cpu 4000 - 1000 - 1000 = 2000, mem 8000 - 3000 - 1000 = 4000
    // (3 * 2000 / 4000 + 1 * 4000 / 8000) / (3 + 1) = (1.5 + 0.5) / 4 = 0.5
    expect(resourceScore(fleet, 0, factors, demandTerm)).toBeCloseTo(0.5, 12);
  });

  it('is 0 when every weight is 0', () => {
    const fleet = FleetState.from([vm('a', {}, CPU_MEM)], CPU_MEM);
    expect(resourceScore(fleet, 0, resourceFactors(fleet, Float64Array.from([0, 0])), 0)).toBe(0);
  });
});

describe('the hoisted argmin/argmax loops', () => {
  const row = (dims: readonly string[]) =>
    fc
      .tuple(...dims.map(() => fc.integer({ min: 0, max: 1000 })))
      .map((v) => Object.fromEntries(dims.map((d, k) => [d, v[k]!])));
  const fleetArb = fc
    .constantFrom(['cpu', 'mem'], ['cpu', 'mem', 'io', 'bw'], ['cpu', 'mem', 'io', 'bw', 'gpu'])
    .chain((dims) =>
      fc.record({
        dims: fc.constant(dims),
        vms: fc.array(
          fc.record({
            capacity: row(dims),
            reserved: row(dims),
            usage: row(dims),
            history: fc.array(row(dims), { maxLength: 2 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        demand: row(dims),
        alpha: fc.double({ min: 0, max: 2, noNaN: true }),
        beta: fc.double({ min: 0, max: 2, noNaN: true }),
      }),
    );

  it('find the best value of the reference functions', () => {
    fc.assert(
      fc.property(fleetArb, ({ dims, vms, demand, alpha, beta }) => {
        const fleet = FleetState.from(
          vms.map((v, i) => vm(`vm-${i}`, v, dims)),
          dims,
        );
        // Every VM a candidate, in index order.
        for (let i = 0; i < fleet.size; i++) fleet.candidates[i] = i;
        const d = Float64Array.from(dims, (k) => demand[k]!);
        const argmin = (f: (i: number) => number) => {
          const values = Array.from({ length: fleet.size }, (_, i) => f(i));
          const min = Math.min(...values);
          return { index: values.indexOf(min), value: min };
        };
        const dw = argmin((i) => dynamicWeight(fleet, i, alpha, beta));
        const lowestDw = lowestDynamicWeight(fleet, fleet.size, alpha, beta);
        expect(lowestDw.value).toBeCloseTo(dw.value, 9);
        expect(dynamicWeight(fleet, lowestDw.index, alpha, beta)).toBeCloseTo(dw.value, 9);
        const load = argmin((i) => reservedLoadAfter(fleet, i, d));
        const lowestLoad = lowestLoadAfter(fleet, fleet.size, d);
        expect(lowestLoad.value).toBeCloseTo(load.value, 9);
        expect(reservedLoadAfter(fleet, lowestLoad.index, d)).toBeCloseTo(load.value, 9);
        const scaled = scaledDemand(fleet, d);
        const leftover = argmin((i) => 1 - bestFitScore(fleet, i, scaled));
        const lowestLeft = lowestLeftover(fleet, fleet.size, scaled);
        expect(lowestLeft.value).toBeCloseTo(leftover.value, 9);
        expect(1 - bestFitScore(fleet, lowestLeft.index, scaled)).toBeCloseTo(leftover.value, 9);
        const factors = resourceFactors(
          fleet,
          Float64Array.from(dims, (_, k) => k + 1),
        );
        const term = resourceDemandTerm(factors, d);
        const most = argmin((i) => -resourceScore(fleet, i, factors, term));
        const highest = highestResourceScore(fleet, fleet.size, factors, term);
        expect(highest.value).toBeCloseTo(-most.value, 9);
        expect(resourceScore(fleet, highest.index, factors, term)).toBeCloseTo(-most.value, 9);
      }),
    );
  });

  it('find nothing among no candidates', () => {
    const fleet = FleetState.from([vm('a')], ['cpu', 'mem', 'io', 'bw']);
    expect(lowestDynamicWeight(fleet, 0, 0.7, 0.3)).toEqual({ index: -1, value: Number.POSITIVE_INFINITY });
    expect(lowestLoadAfter(fleet, 0, new Float64Array(4))).toEqual({
      index: -1,
      value: Number.POSITIVE_INFINITY,
    });
  });
});
