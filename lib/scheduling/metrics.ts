import type { Dimensions, ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm } from '../model/vm';

/**
 * Fleet-level measures shared by the simulator, the dashboard and the benchmarks. All are pure
 * functions of the VMs' capacity and reservations, so two runs over the same decisions agree.
 */

export interface FleetMetrics {
  /** Per VM, in input order: mean over provided dimensions of reserved / capacity. */
  utilisation: number[];
  /** Mean of `utilisation` over active VMs. */
  meanUtilisation: number;
  /** Coefficient of variation of `utilisation` over active VMs (0 = perfectly even). */
  loadImbalance: number;
  /** See `fragmentation`; null when no probe task was given. */
  fragmentation: number | null;
}

/**
 * Mean over the dimensions the VM provides (capacity > 0) of reserved / capacity; 0 for a VM that
 * provides none. Dimensions a VM lacks are skipped: 0 of 0 GPUs is neither full nor empty.
 */
export function utilisation(vm: Vm, dimensions: Dimensions): number {
  let sum = 0;
  let provided = 0;
  for (const d of dimensions) {
    const capacity = vm.capacity[d] ?? 0;
    if (capacity <= 0) continue;
    sum += (vm.reserved[d] ?? 0) / capacity;
    provided++;
  }
  return provided === 0 ? 0 : sum / provided;
}

/** Mean utilisation of the active VMs; 0 for a fleet without any. */
export function meanUtilisation(vms: readonly Vm[], dimensions: Dimensions): number {
  const values = activeUtilisations(vms, dimensions);
  return values.length === 0 ? 0 : mean(values);
}

/**
 * Load imbalance: population standard deviation / mean of the active VMs' utilisation. 0 when the
 * fleet is empty or idle (mean 0): an idle fleet is not unbalanced.
 */
export function loadImbalance(vms: readonly Vm[], dimensions: Dimensions): number {
  const values = activeUtilisations(vms, dimensions);
  if (values.length === 0) return 0;
  const m = mean(values);
  if (m === 0) return 0;
  const variance = mean(values.map((u) => (u - m) ** 2));
  return Math.sqrt(variance) / m;
}

/**
 * Fragmentation: the share of the fleet's free capacity that is stranded, i.e. sits on active VMs
 * where the probe (a typical task, see `meanRequirements`) no longer fits. Computed per dimension as
 * (free on VMs where the probe does not fit) / (free on all active VMs), then averaged over the
 * dimensions that have any free capacity. 0 when nothing is free: a full fleet strands nothing.
 * Draining VMs are left out: their room is not on offer.
 */
export function fragmentation(vms: readonly Vm[], dimensions: Dimensions, probe: ResourceVector): number {
  const stranded = new Array<number>(dimensions.length).fill(0);
  const total = new Array<number>(dimensions.length).fill(0);
  for (const vm of vms) {
    if (vm.state !== 'active') continue;
    const fits = dimensions.every((d) => (vm.reserved[d] ?? 0) + (probe[d] ?? 0) <= (vm.capacity[d] ?? 0));
    dimensions.forEach((d, i) => {
      const free = Math.max(0, (vm.capacity[d] ?? 0) - (vm.reserved[d] ?? 0));
      total[i]! += free;
      if (!fits) stranded[i]! += free;
    });
  }
  const shares = total.flatMap((t, i) => (t > 0 ? [stranded[i]! / t] : []));
  return shares.length === 0 ? 0 : mean(shares);
}

/** Per-dimension mean of the tasks' requirements: a probe for `fragmentation`. Zeros for no tasks. */
export function meanRequirements(tasks: readonly Task[], dimensions: Dimensions): ResourceVector {
  const probe: ResourceVector = {};
  for (const d of dimensions) {
    probe[d] =
      tasks.length === 0 ? 0 : tasks.reduce((s, t) => s + (t.requirements[d] ?? 0), 0) / tasks.length;
  }
  return probe;
}

export function fleetMetrics(
  vms: readonly Vm[],
  dimensions: Dimensions,
  probe?: ResourceVector,
): FleetMetrics {
  return {
    utilisation: vms.map((vm) => utilisation(vm, dimensions)),
    meanUtilisation: meanUtilisation(vms, dimensions),
    loadImbalance: loadImbalance(vms, dimensions),
    fragmentation: probe ? fragmentation(vms, dimensions, probe) : null,
  };
}

function activeUtilisations(vms: readonly Vm[], dimensions: Dimensions): number[] {
  return vms.filter((vm) => vm.state === 'active').map((vm) => utilisation(vm, dimensions));
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
