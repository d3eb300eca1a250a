import type { FleetState } from './fleet-state';

/**
 * The arithmetic of the algorithms, as pure functions of one VM's row. Ratios multiply by
 * FleetState.inverseCapacity (0 where capacity is 0) and means divide by the number of dimensions the
 * VM provides, so capacity 0 never divides by zero and never makes a VM look emptier.
 * docs/algorithms.md gives the formulas with worked examples.
 */

/** DW below this counts as this: an idle VM gets a large finite score instead of Infinity. */
export const DW_MIN = 1e-3;
/** Time remaining below this (seconds), including past deadlines, counts as this. */
export const MIN_TIME_REMAINING_S = 1;

/** Mean over provided dimensions of (reserved + demand) / capacity: the VM's committed share after placement. */
export function reservedLoadAfter(fleet: FleetState, vmIndex: number, demand: Float64Array): number {
  const w = fleet.width;
  const base = vmIndex * w;
  const { reserved, inverseCapacity } = fleet;
  let sum = 0;
  for (let d = 0; d < w; d++) sum += (reserved[base + d]! + demand[d]!) * inverseCapacity[base + d]!;
  return sum * fleet.inverseProvided[vmIndex]!;
}

/**
 * The blockchain scheduler's dynamic weight DW = alpha * current + beta * historical, where
 *   current    = mean_d (usage_d + reserved_d) / capacity_d
 *   historical = mean_d (historyMean_d + reserved_d) / capacity_d
 * over the dimensions the VM provides. Reservations are added to the measured usage so that every
 * placement raises the VM's weight at once: measured usage only moves at the next sample, and a
 * batch would otherwise pile onto whichever VM looked idle last time. This counts running tasks
 * twice (measured and reserved), which overstates load but preserves the order between VMs.
 */
export function dynamicWeight(fleet: FleetState, vmIndex: number, alpha: number, beta: number): number {
  const w = fleet.width;
  const base = vmIndex * w;
  const { reserved, usage, historyMean, inverseCapacity } = fleet;
  let current = 0;
  let historical = 0;
  for (let d = 0; d < w; d++) {
    const k = base + d;
    current += (usage[k]! + reserved[k]!) * inverseCapacity[k]!;
    historical += (historyMean[k]! + reserved[k]!) * inverseCapacity[k]!;
  }
  const inv = fleet.inverseProvided[vmIndex]!;
  return alpha * current * inv + beta * historical * inv;
}

/** UF = 1 / (tau * time_remaining), time remaining in seconds floored at MIN_TIME_REMAINING_S. */
export function urgencyFactor(deadlineS: number, nowMs: number, tau: number): number {
  const remaining = Math.max(deadlineS - nowMs / 1000, MIN_TIME_REMAINING_S);
  return 1 / (tau * remaining);
}

/** score = UF / max(DW, DW_MIN). */
export function blockchainScore(urgency: number, weight: number): number {
  return urgency / Math.max(weight, DW_MIN);
}

/**
 * Best-fit: 1 - mean_d (capacity_d - reserved_d - demand_d) / fleetMaxCapacity_d. Leftovers are
 * scaled by the fleet's largest capacity, not the VM's own, so an absolute leftover counts the same
 * on a big and a small VM: the VM left with the least room is the tightest fit. In [0, 1] when the
 * task fits.
 */
export function bestFitScore(fleet: FleetState, vmIndex: number, demand: Float64Array): number {
  const w = fleet.width;
  const base = vmIndex * w;
  const { capacity, reserved, maxCapacity } = fleet;
  let leftover = 0;
  for (let d = 0; d < w; d++) {
    leftover += (capacity[base + d]! - reserved[base + d]! - demand[d]!) / maxCapacity[d]!;
  }
  return 1 - leftover / w;
}

/**
 * Resource-based: sum_d weight_d * free_d / fleetMaxCapacity_d / sum_d weight_d, where free is
 * capacity - max(reserved, usage) - demand, floored at 0: a VM can give out neither what it has
 * promised nor what it is measurably using. Absolute amounts (scaled by the fleet's largest VM) so
 * that a big VM with room wins over a small empty one. In [0, 1]; 0 when every weight is 0.
 */
export function resourceScore(
  fleet: FleetState,
  vmIndex: number,
  demand: Float64Array,
  weights: Float64Array,
  weightSum: number,
): number {
  if (weightSum === 0) return 0;
  const w = fleet.width;
  const base = vmIndex * w;
  const { capacity, reserved, usage, maxCapacity } = fleet;
  let sum = 0;
  for (let d = 0; d < w; d++) {
    const k = base + d;
    const used = Math.max(reserved[k]!, usage[k]!);
    const free = capacity[k]! - used - demand[d]!;
    if (free > 0) sum += (weights[d]! * free) / maxCapacity[d]!;
  }
  return sum / weightSum;
}
