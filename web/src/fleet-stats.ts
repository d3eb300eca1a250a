import type { FleetVm } from './wire';

/** Fleet-wide spread of one dimension, as fractions of capacity (0..1, may exceed 1 if overcommitted). */
export interface DimensionSpread {
  mean: number | null;
  min: number | null;
  max: number | null;
}

export interface FleetSpread {
  reserved: DimensionSpread;
  usage: DimensionSpread;
}

/**
 * Share of `capacity` taken by `amount`; null when the VM has none of that dimension (a CPU-only VM
 * has no GPU): counting it as 0% would drag the fleet mean down, counting it as 100% would look full.
 */
export function fraction(amount: number | undefined, capacity: number | undefined): number | null {
  if (capacity === undefined || !(capacity > 0)) return null;
  return (amount ?? 0) / capacity;
}

function spread(values: number[]): DimensionSpread {
  if (values.length === 0) return { mean: null, min: null, max: null };
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { mean: sum / values.length, min, max };
}

/**
 * Mean, min and max utilisation of each dimension over the VMs that can take work. Draining VMs are
 * left out: they are emptying by design and would show as imbalance the scheduler cannot act on.
 */
export function fleetSpread(
  vms: readonly FleetVm[],
  dimensions: readonly string[],
): Map<string, FleetSpread> {
  const result = new Map<string, FleetSpread>();
  const active = vms.filter((vm) => vm.state !== 'draining');
  for (const d of dimensions) {
    const reserved: number[] = [];
    const usage: number[] = [];
    for (const vm of active) {
      const r = fraction(vm.reserved[d], vm.capacity[d]);
      const u = fraction(vm.usage[d], vm.capacity[d]);
      if (r !== null) reserved.push(r);
      if (u !== null) usage.push(u);
    }
    result.set(d, { reserved: spread(reserved), usage: spread(usage) });
  }
  return result;
}
