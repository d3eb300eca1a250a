import type { Dimensions } from '../model/resources';
import type { Vm } from '../model/vm';

/**
 * How full the fleet is, from the ledger's reservations (reserved / capacity), not measured usage:
 * reservations are what the scheduler packs against, so a fleet can be "full" while its CPUs idle.
 *
 * Over active VMs only, like backlog per instance (./backlog.ts): a draining VM takes no new work,
 * so its load says nothing about room for the backlog.
 */

/** Summary of one dimension over the VMs that provide it, in the shape of CloudWatch's StatisticSet. */
export interface UtilisationStats {
  /** A resource dimension, or BINDING for each VM's fullest dimension. */
  readonly dimension: string;
  /** VMs counted: active ones with capacity > 0 in the dimension. */
  readonly count: number;
  /** Sum of the per-VM ratios; `sum / count` is the mean. */
  readonly sum: number;
  readonly min: number;
  readonly max: number;
}

/**
 * The pseudo-dimension for each VM's largest ratio over its dimensions: a VM is full as soon as one
 * dimension is, so this is the figure that says whether another task fits anywhere.
 */
export const BINDING = 'binding';

export type VmUtilisationView = Pick<Vm, 'state' | 'capacity' | 'reserved'>;

/**
 * Per dimension (then BINDING), the reserved/capacity ratios of the active VMs. A VM with capacity 0
 * in a dimension is left out of that dimension (a VM without GPUs is not "empty" for holding 0 of 0).
 * Dimensions no active VM provides are omitted, so nothing published is NaN.
 */
export function utilisation(vms: readonly VmUtilisationView[], dimensions: Dimensions): UtilisationStats[] {
  const perDimension = dimensions.map(() => new Accumulator());
  const binding = new Accumulator();
  for (const vm of vms) {
    if (vm.state !== 'active') continue;
    let fullest: number | undefined;
    dimensions.forEach((d, i) => {
      const capacity = vm.capacity[d] ?? 0;
      if (!(capacity > 0)) return;
      const ratio = (vm.reserved[d] ?? 0) / capacity;
      perDimension[i]!.add(ratio);
      fullest = fullest === undefined ? ratio : Math.max(fullest, ratio);
    });
    if (fullest !== undefined) binding.add(fullest);
  }
  return [...dimensions.map((d, i) => perDimension[i]!.stats(d)), binding.stats(BINDING)].filter(
    (s): s is UtilisationStats => s !== undefined,
  );
}

class Accumulator {
  private count = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;

  add(value: number): void {
    this.count += 1;
    this.sum += value;
    this.min = Math.min(this.min, value);
    this.max = Math.max(this.max, value);
  }

  stats(dimension: string): UtilisationStats | undefined {
    if (this.count === 0) return undefined;
    return { dimension, count: this.count, sum: this.sum, min: this.min, max: this.max };
  }
}
