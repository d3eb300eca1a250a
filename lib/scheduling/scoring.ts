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
  const b = vmIndex * w;
  const { reserved: r, inverseCapacity: ic } = fleet;
  let sum: number;
  if (w === 4) {
    sum =
      (r[b]! + demand[0]!) * ic[b]! +
      (r[b + 1]! + demand[1]!) * ic[b + 1]! +
      (r[b + 2]! + demand[2]!) * ic[b + 2]! +
      (r[b + 3]! + demand[3]!) * ic[b + 3]!;
  } else {
    sum = 0;
    for (let d = 0; d < w; d++) sum += (r[b + d]! + demand[d]!) * ic[b + d]!;
  }
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
  // Means are linear: DW = mean_d (alpha * usage_d + beta * history_d + (alpha + beta) * reserved_d) / capacity_d.
  const w = fleet.width;
  const b = vmIndex * w;
  const { usage: u, historyMean: h, reserved: r, inverseCapacity: ic } = fleet;
  const both = alpha + beta;
  let sum: number;
  if (w === 4) {
    sum =
      (alpha * u[b]! + beta * h[b]! + both * r[b]!) * ic[b]! +
      (alpha * u[b + 1]! + beta * h[b + 1]! + both * r[b + 1]!) * ic[b + 1]! +
      (alpha * u[b + 2]! + beta * h[b + 2]! + both * r[b + 2]!) * ic[b + 2]! +
      (alpha * u[b + 3]! + beta * h[b + 3]! + both * r[b + 3]!) * ic[b + 3]!;
  } else {
    sum = 0;
    for (let d = 0; d < w; d++) sum += (alpha * u[b + d]! + beta * h[b + d]! + both * r[b + d]!) * ic[b + d]!;
  }
  return sum * fleet.inverseProvided[vmIndex]!;
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
 * task fits. `demandScaled` is sum_d demand_d / fleetMaxCapacity_d (scaledDemand), the same for
 * every VM.
 */
export function bestFitScore(fleet: FleetState, vmIndex: number, demandScaled: number): number {
  const w = fleet.width;
  const b = vmIndex * w;
  const { capacity: c, reserved: r, inverseMaxCapacity: m } = fleet;
  let free: number;
  if (w === 4) {
    free =
      (c[b]! - r[b]!) * m[0]! +
      (c[b + 1]! - r[b + 1]!) * m[1]! +
      (c[b + 2]! - r[b + 2]!) * m[2]! +
      (c[b + 3]! - r[b + 3]!) * m[3]!;
  } else {
    free = 0;
    for (let d = 0; d < w; d++) free += (c[b + d]! - r[b + d]!) * m[d]!;
  }
  return 1 - (free - demandScaled) / w;
}

/** sum_d demand_d / fleetMaxCapacity_d. */
export function scaledDemand(fleet: FleetState, demand: Float64Array): number {
  let sum = 0;
  for (let d = 0; d < fleet.width; d++) sum += demand[d]! * fleet.inverseMaxCapacity[d]!;
  return sum;
}

/**
 * Resource-based: sum_d weight_d * free_d / fleetMaxCapacity_d / sum_d weight_d, where free is
 * capacity - max(reserved, usage) - demand: a VM can give out neither what it has promised nor what
 * it is measurably using. Absolute amounts (scaled by the fleet's largest VM) so that a big VM with
 * room wins over a small empty one. At most 1; negative when measured usage leaves less room than
 * the task needs. `factors` holds weight_d / fleetMaxCapacity_d / sum of weights (resourceFactors),
 * and `demandTerm` is sum_d factors_d * demand_d: both the same for every VM.
 */
export function resourceScore(
  fleet: FleetState,
  vmIndex: number,
  factors: Float64Array,
  demandTerm: number,
): number {
  const w = fleet.width;
  const base = vmIndex * w;
  const { capacity: c, reserved: r, usage: u } = fleet;
  if (w === 4) {
    return (
      factors[0]! * (c[base]! - Math.max(r[base]!, u[base]!)) +
      factors[1]! * (c[base + 1]! - Math.max(r[base + 1]!, u[base + 1]!)) +
      factors[2]! * (c[base + 2]! - Math.max(r[base + 2]!, u[base + 2]!)) +
      factors[3]! * (c[base + 3]! - Math.max(r[base + 3]!, u[base + 3]!)) -
      demandTerm
    );
  }
  let sum = 0;
  for (let d = 0; d < w; d++) sum += factors[d]! * (c[base + d]! - Math.max(r[base + d]!, u[base + d]!));
  return sum - demandTerm;
}

/** sum_d factors_d * demand_d: the part of resourceScore that is the same for every VM. */
export function resourceDemandTerm(factors: Float64Array, demand: Float64Array): number {
  let sum = 0;
  for (let d = 0; d < factors.length; d++) sum += factors[d]! * demand[d]!;
  return sum;
}

/** weight_d / fleetMaxCapacity_d / sum of weights, or all 0 when every weight is 0. */
export function resourceFactors(fleet: FleetState, weights: Float64Array): Float64Array {
  const total = weights.reduce((a, b) => a + b, 0);
  return Float64Array.from(weights, (weight, d) =>
    total === 0 ? 0 : weight / fleet.maxCapacity[d]! / total,
  );
}

/** The candidate with the best (lowest or highest) value of some score, and that value; index -1 when there are none. */
export interface Best {
  index: number;
  value: number;
}

/**
 * argmin of dynamicWeight over fleet.candidates[0..count), first on ties. The same arithmetic as
 * dynamicWeight with the arrays hoisted out of the loop: this loop runs once per VM per decision, and
 * hoisting measured about 15% faster at 10,000 VMs. Agreement is checked by scoring.test.ts.
 */
export function lowestDynamicWeight(fleet: FleetState, count: number, alpha: number, beta: number): Best {
  if (fleet.width !== 4) return lowestBy(fleet, count, (i) => dynamicWeight(fleet, i, alpha, beta));
  const {
    candidates,
    usage: u,
    historyMean: h,
    reserved: r,
    inverseCapacity: ic,
    inverseProvided: ip,
  } = fleet;
  const both = alpha + beta;
  let index = -1;
  let value = Number.POSITIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const i = candidates[k]!;
    const b = i * 4;
    const weight =
      ((alpha * u[b]! + beta * h[b]! + both * r[b]!) * ic[b]! +
        (alpha * u[b + 1]! + beta * h[b + 1]! + both * r[b + 1]!) * ic[b + 1]! +
        (alpha * u[b + 2]! + beta * h[b + 2]! + both * r[b + 2]!) * ic[b + 2]! +
        (alpha * u[b + 3]! + beta * h[b + 3]! + both * r[b + 3]!) * ic[b + 3]!) *
      ip[i]!;
    if (weight < value) {
      value = weight;
      index = i;
    }
  }
  return { index, value };
}

/** argmin of reservedLoadAfter over fleet.candidates[0..count), first on ties; hoisted like lowestDynamicWeight. */
export function lowestLoadAfter(fleet: FleetState, count: number, demand: Float64Array): Best {
  if (fleet.width !== 4) return lowestBy(fleet, count, (i) => reservedLoadAfter(fleet, i, demand));
  const { candidates, reserved: r, inverseCapacity: ic, inverseProvided: ip } = fleet;
  const d0 = demand[0]!;
  const d1 = demand[1]!;
  const d2 = demand[2]!;
  const d3 = demand[3]!;
  let index = -1;
  let value = Number.POSITIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const i = candidates[k]!;
    const b = i * 4;
    const load =
      ((r[b]! + d0) * ic[b]! +
        (r[b + 1]! + d1) * ic[b + 1]! +
        (r[b + 2]! + d2) * ic[b + 2]! +
        (r[b + 3]! + d3) * ic[b + 3]!) *
      ip[i]!;
    if (load < value) {
      value = load;
      index = i;
    }
  }
  return { index, value };
}

/** The generic loop for other widths; `negated` scores are flipped back so callers see the real value. */
function lowestBy(
  fleet: FleetState,
  count: number,
  score: (vmIndex: number) => number,
  negated = false,
): Best {
  let index = -1;
  let value = Number.POSITIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const i = fleet.candidates[k]!;
    const v = score(i);
    if (v < value) {
      value = v;
      index = i;
    }
  }
  return { index, value: negated ? -value : value };
}

/**
 * argmin over fleet.candidates[0..count) of the mean leftover after placement,
 * (sum_d (capacity_d - reserved_d) / fleetMaxCapacity_d - demandScaled) / width, first on ties:
 * best-fit's choice, whose score is 1 - that value (bestFitScore). Hoisted like lowestDynamicWeight.
 */
export function lowestLeftover(fleet: FleetState, count: number, demandScaled: number): Best {
  const w = fleet.width;
  if (w !== 4) return lowestBy(fleet, count, (i) => 1 - bestFitScore(fleet, i, demandScaled));
  const { candidates, capacity: c, reserved: r, inverseMaxCapacity: m } = fleet;
  const m0 = m[0]!;
  const m1 = m[1]!;
  const m2 = m[2]!;
  const m3 = m[3]!;
  let index = -1;
  let lowestFree = Number.POSITIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const i = candidates[k]!;
    const b = i * 4;
    const free =
      (c[b]! - r[b]!) * m0 +
      (c[b + 1]! - r[b + 1]!) * m1 +
      (c[b + 2]! - r[b + 2]!) * m2 +
      (c[b + 3]! - r[b + 3]!) * m3;
    if (free < lowestFree) {
      lowestFree = free;
      index = i;
    }
  }
  return { index, value: index < 0 ? lowestFree : (lowestFree - demandScaled) / w };
}

/**
 * argmax of resourceScore over fleet.candidates[0..count), first on ties; hoisted like
 * lowestDynamicWeight.
 */
export function highestResourceScore(
  fleet: FleetState,
  count: number,
  factors: Float64Array,
  demandTerm: number,
): Best {
  if (fleet.width !== 4)
    return lowestBy(fleet, count, (i) => -resourceScore(fleet, i, factors, demandTerm), true);
  const { candidates, capacity: c, reserved: r, usage: u } = fleet;
  const f0 = factors[0]!;
  const f1 = factors[1]!;
  const f2 = factors[2]!;
  const f3 = factors[3]!;
  let index = -1;
  let value = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < count; k++) {
    const i = candidates[k]!;
    const b = i * 4;
    const score =
      f0 * (c[b]! - Math.max(r[b]!, u[b]!)) +
      f1 * (c[b + 1]! - Math.max(r[b + 1]!, u[b + 1]!)) +
      f2 * (c[b + 2]! - Math.max(r[b + 2]!, u[b + 2]!)) +
      f3 * (c[b + 3]! - Math.max(r[b + 3]!, u[b + 3]!)) -
      demandTerm;
    if (score > value) {
      value = score;
      index = i;
    }
  }
  return { index, value };
}
