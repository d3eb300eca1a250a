import { type FieldIssue, SchedulerError, ValidationError } from '../errors';
import { AMOUNT_QUANTUM, fromMicro, toMicro } from '../model/amount';

const HALF_QUANTUM = AMOUNT_QUANTUM / 2;

import type { Dimensions, ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm, VmLabels, VmSnapshot } from '../model/vm';
import { amountProblem, capacityProblem, MIN_CAPACITY } from '../schemas/amounts';
import { GPU_DIMENSION, GpuDevices } from './devices';
import { DEFAULT_PARAMS } from './types';

/** The numeric rules live in lib/schemas/amounts.ts, shared with the API and config schemas. */
export { MIN_CAPACITY };

/** Values of FleetState.state. */
export const VM_ACTIVE = 0;
export const VM_DRAINING = 1;

/**
 * The fleet laid out for the placement hot path: one row per VM, one column per dimension, in flat
 * typed arrays (index `vm * width + dimension`). Algorithms scan every VM for every task, so the
 * scan touches only contiguous numbers and allocates nothing per VM.
 *
 * Mutation: `reserve` refuses to push any dimension past capacity, so placement can never
 * overcommit a VM; `release` gives a finished task's reservation back. Both, and `fits`, compute in
 * integer micro-units (lib/model/amount.ts), so a reservation is always the exact decimal sum of its
 * tasks' requirements and a task exactly filling a VM fits. The arrays are public so that
 * the hot path and a simulator can read them without copies. `reserved` changes only through
 * `reserve`/`release`, which count each change in `revision` (per VM), so an algorithm may cache
 * per-VM values derived from reservations and recompute them only for VMs whose revision moved
 * (fgd does). Nothing is cached from `usage`, `historyMean`, `activeTasks` or `state`, so a
 * simulator may write those directly; capacity and the arrays derived from it must not change.
 */
export class FleetState {
  /** Number of VMs. */
  readonly size: number;
  /** Number of dimensions. */
  readonly width: number;

  private constructor(
    readonly dimensions: Dimensions,
    readonly ids: readonly string[],
    readonly labels: readonly Readonly<VmLabels>[],
    readonly capacity: Float64Array,
    /** 1 / capacity, or 0 where capacity is 0, so ratios need no branch and never divide by zero. */
    readonly inverseCapacity: Float64Array,
    /**
     * Per VM, 1 / (number of dimensions with capacity > 0), or 0 when it has none. Means of ratios
     * skip dimensions a VM does not provide: a VM without GPUs is not "emptier" for having 0 of 0.
     */
    readonly inverseProvided: Float64Array,
    /** Largest capacity per dimension over the fleet (or 1 when all are 0): a common scale for absolute amounts. */
    readonly maxCapacity: Float64Array,
    /** 1 / maxCapacity, per dimension. */
    readonly inverseMaxCapacity: Float64Array,
    readonly reserved: Float64Array,
    readonly usage: Float64Array,
    /** Mean of the last `historyWindow` usage samples; the current usage when a VM has no history yet. */
    readonly historyMean: Float64Array,
    readonly activeTasks: Int32Array,
    /** VM_ACTIVE or VM_DRAINING. */
    readonly state: Uint8Array,
    private readonly source: readonly Vm[],
    /**
     * Per VM and dimension, the bound of the exact fit test: `reserved + demand <= fitLimit`.
     * It is the capacity (rounded down onto the micro-unit grid) plus half a micro-unit. For amounts
     * on the grid and at most MAX_AMOUNT (lib/model/amount.ts), the floating-point sum and this
     * bound are each within 2.4e-7 of the decimals they stand for, so the comparison holds exactly
     * when the decimal sum is at most the capacity (a sum over it exceeds it by a whole 1e-6). This
     * keeps the hot scan at one addition per dimension instead of converting to micro-units, and
     * agrees with `reserveDemand`, which rounds a reservation off the grid to the nearest micro-unit.
     */
    readonly fitLimit: Float64Array = capacity.map((c) => fromMicro(microFloor(c)) + HALF_QUANTUM),
  ) {
    this.size = ids.length;
    this.width = dimensions.length;
    this.candidates = new Int32Array(this.size);
    this.revision = new Uint32Array(this.size);
  }

  /**
   * Per VM, how many times `reserve`/`release` changed its reservations (wrapping at 2^32): equal
   * revisions mean equal reservations, so caches keyed on it need no copy of the arrays. The GPU
   * devices count their own changes (GpuDevices.revision).
   */
  revision: Uint32Array;

  /**
   * Scratch for the indices of the VMs that pass the filter for the decision in progress
   * (algorithm.ts: collectFeasible), allocated once so that a decision allocates nothing per VM.
   */
  readonly candidates: Int32Array;

  /**
   * The VMs' GPU devices (devices.ts), or null when no VM lists any or the fleet does not schedule
   * `gpu`. Placement then also needs a device (or whole devices) with the room.
   */
  devices: GpuDevices | null = null;

  /** Index of the `gpu` dimension, or -1. */
  get gpuDimension(): number {
    return this.dimensions.indexOf(GPU_DIMENSION);
  }

  /**
   * Lays out `vms` on `dimensions`. A dimension a VM leaves out counts as 0. Throws a ValidationError
   * naming the field (e.g. `fleet.3.capacity.cpu`) for an amount outside [0, MAX_AMOUNT], a capacity
   * between 0 and MIN_CAPACITY, a bad state or activeTasks, a duplicate VM id or dimension: the
   * scheduler would otherwise compute on garbage.
   */
  static from(
    vms: readonly Vm[],
    dimensions: Dimensions,
    historyWindow: number = DEFAULT_PARAMS.historyWindow,
  ): FleetState {
    if (!Number.isInteger(historyWindow) || historyWindow < 1) {
      throw new ValidationError([{ field: 'historyWindow', message: 'must be an integer >= 1' }]);
    }
    if (new Set(dimensions).size !== dimensions.length) {
      throw new ValidationError([{ field: 'dimensions', message: 'must not repeat a dimension' }]);
    }
    const n = vms.length;
    const w = dimensions.length;
    const issues: FieldIssue[] = [];
    const capacity = new Float64Array(n * w);
    const inverseCapacity = new Float64Array(n * w);
    const inverseProvided = new Float64Array(n);
    const maxCapacity = new Float64Array(w);
    const reserved = new Float64Array(n * w);
    const usage = new Float64Array(n * w);
    const historyMean = new Float64Array(n * w);
    const activeTasks = new Int32Array(n);
    const state = new Uint8Array(n);
    const ids: string[] = new Array(n);
    const labels: Readonly<VmLabels>[] = new Array(n);
    const seen = new Set<string>();

    for (let i = 0; i < n; i++) {
      const vm = vms[i]!;
      ids[i] = vm.id;
      labels[i] = vm.labels ?? {};
      if (seen.has(vm.id)) issues.push({ field: `fleet.${i}.id`, message: `duplicate VM id "${vm.id}"` });
      seen.add(vm.id);
      if (vm.state !== 'active' && vm.state !== 'draining') {
        issues.push({ field: `fleet.${i}.state`, message: 'must be "active" or "draining"' });
      }
      state[i] = vm.state === 'active' ? VM_ACTIVE : VM_DRAINING;
      if (!Number.isInteger(vm.activeTasks) || vm.activeTasks < 0 || vm.activeTasks > 0x7fffffff) {
        issues.push({ field: `fleet.${i}.activeTasks`, message: 'must be a non-negative integer' });
      }
      activeTasks[i] = vm.activeTasks;

      const samples = vm.history.length > historyWindow ? vm.history.slice(-historyWindow) : vm.history;
      let provided = 0;
      for (let d = 0; d < w; d++) {
        const dim = dimensions[d]!;
        const k = i * w + d;
        const rawCap = vm.capacity?.[dim] ?? 0;
        const capProblem = capacityProblem(rawCap);
        if (capProblem !== null) issues.push({ field: `fleet.${i}.capacity.${dim}`, message: capProblem });
        const cap = capProblem === null ? rawCap : Number.NaN;
        capacity[k] = cap;
        if (cap > 0) {
          inverseCapacity[k] = 1 / cap;
          provided++;
        }
        if (cap > maxCapacity[d]!) maxCapacity[d] = cap;
        reserved[k] = amount(vm.reserved, dim);
        if (Number.isNaN(reserved[k])) issues.push(bad(`fleet.${i}.reserved.${dim}`));
        usage[k] = amount(vm.usage, dim);
        if (Number.isNaN(usage[k])) issues.push(bad(`fleet.${i}.usage.${dim}`));
        if (samples.length === 0) {
          historyMean[k] = usage[k]!;
        } else {
          let sum = 0;
          for (let s = 0; s < samples.length; s++) {
            const sample = amount(samples[s], dim);
            if (Number.isNaN(sample))
              issues.push(bad(`fleet.${i}.history.${vm.history.length - samples.length + s}.${dim}`));
            sum += sample;
          }
          historyMean[k] = sum / samples.length;
        }
      }
      inverseProvided[i] = provided > 0 ? 1 / provided : 0;
    }
    for (let d = 0; d < w; d++) if (maxCapacity[d] === 0) maxCapacity[d] = 1;
    const inverseMaxCapacity = maxCapacity.map((c) => 1 / c);
    const gpu = dimensions.indexOf(GPU_DIMENSION);
    const devices = gpu < 0 ? null : GpuDevices.from(vms, (i) => capacity[i * w + gpu]!, issues);
    if (issues.length > 0) throw new ValidationError(issues, 'invalid fleet');

    const fleet = new FleetState(
      [...dimensions],
      ids,
      labels,
      capacity,
      inverseCapacity,
      inverseProvided,
      maxCapacity,
      inverseMaxCapacity,
      reserved,
      usage,
      historyMean,
      activeTasks,
      state,
      vms,
    );
    fleet.devices = devices;
    return fleet;
  }

  /**
   * The task's requirements in this fleet's dimension order (missing ones are 0). Requirements in a
   * dimension the fleet does not schedule are not represented: see `unscheduledRequirement`.
   */
  demandOf(task: Task): Float64Array {
    const demand = new Float64Array(this.width);
    for (let d = 0; d < this.width; d++) demand[d] = task.requirements[this.dimensions[d]!] ?? 0;
    return demand;
  }

  /** True when the task fits in EVERY dimension: reserved + requirement <= capacity. State and labels are not checked. */
  fits(vmIndex: number, task: Task): boolean {
    return this.fitsDemand(vmIndex, this.demandOf(task));
  }

  /** `fits` for a demand vector from `demandOf`; the form the hot path uses. */
  fitsDemand(vmIndex: number, demand: Float64Array): boolean {
    const w = this.width;
    const base = vmIndex * w;
    for (let d = 0; d < w; d++) {
      // Exact (see fitLimit): a task that exactly fills a VM fits, one micro-unit more does not.
      if (this.reserved[base + d]! + demand[d]! > this.fitLimit[base + d]!) return false;
    }
    return true;
  }

  /** Adds the task's requirements to the VM's reservations and counts it as active. Throws if it does not fit. */
  reserve(vmIndex: number, task: Task): void {
    this.reserveDemand(vmIndex, this.demandOf(task));
  }

  reserveDemand(vmIndex: number, demand: Float64Array): void {
    if (!(vmIndex >= 0 && vmIndex < this.size)) throw new RangeError(`no VM at index ${vmIndex}`);
    if (!this.fitsDemand(vmIndex, demand)) {
      throw new SchedulerError(`reservation would exceed the capacity of VM ${this.ids[vmIndex]}`);
    }
    const base = vmIndex * this.width;
    for (let d = 0; d < this.width; d++) {
      this.reserved[base + d] = fromMicro(toMicro(this.reserved[base + d]!) + toMicro(demand[d]!));
    }
    this.revision[vmIndex]!++;
    this.activeTasks[vmIndex]!++;
  }

  /**
   * Gives a finished task's requirements back and counts one task fewer. Floors at 0, so releasing
   * what was never reserved (a task placed before this state was built) cannot go negative.
   */
  release(vmIndex: number, task: Task): void {
    this.releaseDemand(vmIndex, this.demandOf(task));
  }

  releaseDemand(vmIndex: number, demand: Float64Array): void {
    if (!(vmIndex >= 0 && vmIndex < this.size)) throw new RangeError(`no VM at index ${vmIndex}`);
    const base = vmIndex * this.width;
    for (let d = 0; d < this.width; d++) {
      this.reserved[base + d] = fromMicro(
        Math.max(0, toMicro(this.reserved[base + d]!) - toMicro(demand[d]!)),
      );
    }
    this.revision[vmIndex]!++;
    if (this.activeTasks[vmIndex]! > 0) this.activeTasks[vmIndex]!--;
  }

  /** The VM's reserved, usage and active tasks as the ledger records them. */
  snapshot(vmIndex: number): VmSnapshot {
    const snapshot: VmSnapshot = {
      reserved: this.vector(this.reserved, vmIndex),
      usage: this.vector(this.usage, vmIndex),
      active_tasks: this.activeTasks[vmIndex]!,
    };
    // Per-device use, for a VM that lists devices (docs/ledger-format.md 2.4).
    if (this.devices !== null && this.devices.listed[vmIndex] === 1 && this.devices.count(vmIndex) > 0) {
      snapshot.gpus = this.devices.reservedOf(vmIndex);
    }
    return snapshot;
  }

  /** A row of one of the per-VM arrays as a named vector. */
  vector(values: Float64Array, vmIndex: number): ResourceVector {
    const v: ResourceVector = {};
    const base = vmIndex * this.width;
    for (let d = 0; d < this.width; d++) v[this.dimensions[d]!] = values[base + d]!;
    return v;
  }

  /** The VMs this state was built from, with reserved and activeTasks as they stand now. */
  toVms(): Vm[] {
    const devices = this.devices;
    return this.source.map((vm, i) => {
      const reserved: ResourceVector = { ...vm.reserved, ...this.vector(this.reserved, i) };
      const out: Vm = { ...vm, reserved, activeTasks: this.activeTasks[i]! };
      if (devices === null || vm.gpus === undefined) return out;
      const used = devices.reservedOf(i);
      return { ...out, gpus: vm.gpus.map((g, k) => ({ ...g, reserved: used[k] ?? 0 })) };
    });
  }

  /** An independent copy: reserving on the clone leaves this one unchanged. */
  clone(): FleetState {
    const copy = new FleetState(
      this.dimensions,
      this.ids,
      this.labels,
      this.capacity.slice(),
      this.inverseCapacity.slice(),
      this.inverseProvided.slice(),
      this.maxCapacity.slice(),
      this.inverseMaxCapacity.slice(),
      this.reserved.slice(),
      this.usage.slice(),
      this.historyMean.slice(),
      this.activeTasks.slice(),
      this.state.slice(),
      this.source,
      this.fitLimit,
    );
    copy.devices = this.devices?.clone() ?? null;
    copy.revision = this.revision.slice();
    return copy;
  }

  /** Index of the VM with this id, or -1. Linear: for tests and tools, not the hot path. */
  indexOf(id: string): number {
    return this.ids.indexOf(id);
  }
}

/** The amount in `dim`, 0 when absent, NaN when not a number in [0, MAX_AMOUNT] (the caller reports the field). */
function amount(vector: ResourceVector | undefined, dim: string): number {
  const value = vector?.[dim];
  if (value === undefined) return 0;
  return amountProblem(value) === null ? value : Number.NaN;
}

/**
 * The capacity in micro-units, rounded down: exact for a capacity on the grid (every configured or
 * validated one), and never above a capacity off it (a fleet source's), so a fit never overcommits.
 */
function microFloor(capacity: number): number {
  const micro = toMicro(capacity);
  return fromMicro(micro) <= capacity ? micro : micro - 1;
}

function bad(field: string): FieldIssue {
  return { field, message: amountProblem(Number.NaN)! };
}
