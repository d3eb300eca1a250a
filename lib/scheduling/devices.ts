import type { FieldIssue } from '../errors';
import type { GpuDevice, Vm } from '../model/vm';
import { GPU_MODEL_PATTERN } from '../schemas/task-input';

/** The dimension whose amount is spread over devices. One GPU is 1000 milli-GPU. */
export const GPU_DIMENSION = 'gpu';
/** milli-GPU in one whole GPU. */
export const WHOLE_GPU = 1000;
/** Largest device list accepted per VM (p5 and p4d have 8; headroom for larger boxes). */
export const MAX_DEVICES_PER_VM = 64;

/**
 * What a task asks of the devices, derived from its `gpu` requirement (milli-GPU): up to 1000 is a
 * share of ONE device (1000 = that device whole); above 1000 it must be whole devices, `gpu / 1000`
 * of them on the same VM. Anything else (1500) is no shape a real GPU offers.
 */
export interface DeviceDemand {
  /** Devices to take: 1 for a share. */
  readonly count: number;
  /** milli-GPU taken on each of them. */
  readonly milli: number;
  /** Allowed model ids (GpuDevices.modelId), or null for any model. */
  readonly models: Int32Array | null;
}

/** The device shape of `gpu` milli-GPU, or a sentence saying why it has none. */
export function deviceShape(gpu: number): { count: number; milli: number } | string {
  if (gpu <= WHOLE_GPU) return { count: 1, milli: gpu };
  if (Number.isInteger(gpu / WHOLE_GPU)) return { count: gpu / WHOLE_GPU, milli: WHOLE_GPU };
  return `gpu ${gpu} milli-GPU is neither a share of one GPU (at most ${WHOLE_GPU}) nor a whole number of GPUs`;
}

/** A fleet's GPU devices by use (GpuDevices.use). */
export interface GpuDeviceUse {
  devices: number;
  /** Devices with no room left. */
  full: number;
  /** Devices partly used: some milli-GPU taken, some free. */
  partial: number;
  /** Devices nothing is placed on. */
  idle: number;
  /** Free milli-GPU on partly used devices / milli-GPU of all devices, 0-1. */
  stranded_share: number;
}

/**
 * The GPU devices of a fleet, flat like FleetState: the devices of VM i are indexes
 * start[i] .. start[i+1]) of `capacity`, `reserved` and `model`. A VM without a device list has
 * none and is scheduled on the summed `gpu` dimension alone (the model before devices existed).
 * Device indexes reported to callers are local to the VM (0 = its first GPU), which is what
 * CUDA_VISIBLE_DEVICES takes.
 */
export class GpuDevices {
  private constructor(
    readonly start: Int32Array,
    readonly capacity: Float64Array,
    readonly reserved: Float64Array,
    readonly model: Int32Array,
    readonly modelNames: readonly string[],
    /** Per VM: 1 when it has a device list (even an empty one), so the summed model is not used. */
    readonly listed: Uint8Array,
    /** Per VM, how many times reserve/release changed its devices (see FleetState.revision). */
    readonly revision: Uint32Array = new Uint32Array(listed.length),
  ) {
    this.largestFree = new Float64Array(listed.length);
    this.wholeFree = new Int32Array(listed.length);
    for (let vm = 0; vm < listed.length; vm++) this.summarize(vm);
  }

  /**
   * Per VM, kept up to date by reserve/release: the most free milli on any one device, and the
   * number of whole (1000-milli) devices entirely free. They answer `fits` for a task that names no
   * GPU model without a pass over the devices: the filter runs for every VM on every decision.
   */
  readonly largestFree: Float64Array;
  readonly wholeFree: Int32Array;

  private summarize(vm: number): void {
    let largest = 0;
    let whole = 0;
    for (let k = this.start[vm]!; k < this.start[vm + 1]!; k++) {
      const free = this.capacity[k]! - this.reserved[k]!;
      if (free > largest) largest = free;
      if (this.reserved[k] === 0 && this.capacity[k] === WHOLE_GPU) whole++;
    }
    this.largestFree[vm] = largest;
    this.wholeFree[vm] = whole;
  }

  /**
   * Lays out the device lists of `vms`, or returns null when none has one. Problems are appended to
   * `issues` naming the field (`fleet.3.gpus.1.milli`): a device of 0 or more than 1000 milli, a
   * list whose milli do not add up to the VM's gpu capacity, reservations that are not on whole
   * milli-GPU.
   */
  static from(
    vms: readonly Vm[],
    gpuCapacity: (i: number) => number,
    issues: FieldIssue[],
  ): GpuDevices | null {
    if (!vms.some((vm) => vm.gpus !== undefined)) return null;
    const n = vms.length;
    const start = new Int32Array(n + 1);
    const listed = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const gpus = vms[i]!.gpus;
      const count = gpus === undefined ? 0 : gpus.length;
      if (count > MAX_DEVICES_PER_VM) {
        issues.push({ field: `fleet.${i}.gpus`, message: `must list at most ${MAX_DEVICES_PER_VM} devices` });
      }
      start[i + 1] = start[i]! + Math.min(count, MAX_DEVICES_PER_VM);
    }
    const total = start[n]!;
    const capacity = new Float64Array(total);
    const reserved = new Float64Array(total);
    const model = new Int32Array(total);
    const modelIds = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const gpus = vms[i]!.gpus;
      if (gpus === undefined) continue;
      listed[i] = 1;
      let sum = 0;
      for (let g = 0; g < start[i + 1]! - start[i]!; g++) {
        const device = gpus[g] as GpuDevice | undefined;
        const k = start[i]! + g;
        const field = `fleet.${i}.gpus.${g}`;
        if (typeof device?.model !== 'string' || !GPU_MODEL_PATTERN.test(device.model)) {
          issues.push({
            field: `${field}.model`,
            message: 'must be a GPU model name (letters, digits, . _ - space)',
          });
        }
        if (!Number.isInteger(device?.milli) || device!.milli < 1 || device!.milli > WHOLE_GPU) {
          issues.push({ field: `${field}.milli`, message: `must be an integer from 1 to ${WHOLE_GPU}` });
        }
        const used = device?.reserved ?? 0;
        if (!Number.isInteger(used) || used < 0) {
          issues.push({ field: `${field}.reserved`, message: 'must be a non-negative integer' });
        }
        const name = String(device?.model);
        let id = modelIds.get(name);
        if (id === undefined) {
          id = modelIds.size;
          modelIds.set(name, id);
        }
        model[k] = id;
        capacity[k] = device?.milli ?? 0;
        reserved[k] = used;
        sum += capacity[k]!;
      }
      const cap = gpuCapacity(i);
      if (sum !== cap) {
        issues.push({
          field: `fleet.${i}.gpus`,
          message: `devices add up to ${sum} milli-GPU but capacity.${GPU_DIMENSION} is ${cap}`,
        });
      }
    }
    return new GpuDevices(start, capacity, reserved, model, [...modelIds.keys()], listed);
  }

  clone(): GpuDevices {
    return new GpuDevices(
      this.start,
      this.capacity,
      this.reserved.slice(),
      this.model,
      this.modelNames,
      this.listed,
      this.revision.slice(),
    );
  }

  /** Model ids of `names`; names no device has are dropped, so an empty result matches nothing. */
  modelIds(names: readonly string[]): Int32Array {
    const ids: number[] = [];
    for (const name of names) {
      const id = this.modelNames.indexOf(name);
      if (id >= 0) ids.push(id);
    }
    return Int32Array.from(ids);
  }

  /** Number of devices of VM `vm`. */
  count(vm: number): number {
    return this.start[vm + 1]! - this.start[vm]!;
  }

  /** True when the device `k` (fleet-wide index) is of an allowed model. */
  private allowed(k: number, models: Int32Array | null): boolean {
    if (models === null) return true;
    const m = this.model[k]!;
    for (let j = 0; j < models.length; j++) if (models[j] === m) return true;
    return false;
  }

  /**
   * True when the VM's devices can take `demand` now: a share needs one allowed device with that much
   * free; whole devices need `count` allowed devices entirely free and 1000 milli each. A VM without
   * a device list passes (the summed dimension decides), unless the task names models.
   */
  fits(vm: number, demand: DeviceDemand): boolean {
    if (this.listed[vm] === 0) return demand.models === null;
    if (demand.models === null) {
      return demand.count === 1 ? demand.milli <= this.largestFree[vm]! : demand.count <= this.wholeFree[vm]!;
    }
    const { capacity: c, reserved: r } = this;
    const end = this.start[vm + 1]!;
    if (demand.count === 1) {
      for (let k = this.start[vm]!; k < end; k++) {
        if (r[k]! + demand.milli <= c[k]! && this.allowed(k, demand.models)) return true;
      }
      return false;
    }
    let whole = 0;
    for (let k = this.start[vm]!; k < end; k++) {
      if (r[k] === 0 && c[k] === WHOLE_GPU && this.allowed(k, demand.models) && ++whole >= demand.count) {
        return true;
      }
    }
    return false;
  }

  /** True when the VM could take `demand` with all of its devices free (draining or not). */
  couldEverFit(vm: number, demand: DeviceDemand): boolean {
    if (this.listed[vm] === 0) return demand.models === null;
    const end = this.start[vm + 1]!;
    let whole = 0;
    for (let k = this.start[vm]!; k < end; k++) {
      if (!this.allowed(k, demand.models)) continue;
      if (demand.count === 1 ? demand.milli <= this.capacity[k]! : this.capacity[k] === WHOLE_GPU) whole++;
    }
    return whole >= demand.count;
  }

  /**
   * The default choice of devices on a VM where `demand` fits (local indexes, ascending): for a
   * share, the allowed device with the least free room that still holds it (best fit, so that whole
   * GPUs stay whole), lowest index on ties; for whole devices, the lowest-indexed free ones. Null
   * when it does not fit. Allocates: runs once per placement, not per VM.
   */
  choose(vm: number, demand: DeviceDemand): number[] | null {
    if (this.listed[vm] === 0) return demand.models === null ? [] : null;
    const { capacity: c, reserved: r } = this;
    const first = this.start[vm]!;
    const end = this.start[vm + 1]!;
    if (demand.count === 1) {
      let best = -1;
      let bestFree = Number.POSITIVE_INFINITY;
      for (let k = first; k < end; k++) {
        const free = c[k]! - r[k]!;
        if (demand.milli <= free && free < bestFree && this.allowed(k, demand.models)) {
          best = k;
          bestFree = free;
        }
      }
      return best < 0 ? null : [best - first];
    }
    const chosen: number[] = [];
    for (let k = first; k < end && chosen.length < demand.count; k++) {
      if (r[k] === 0 && c[k] === WHOLE_GPU && this.allowed(k, demand.models)) chosen.push(k - first);
    }
    return chosen.length === demand.count ? chosen : null;
  }

  /** Local indexes of the VM's devices that could hold one unit of `demand` now (allocates). */
  usable(vm: number, demand: DeviceDemand): number[] {
    const out: number[] = [];
    const first = this.start[vm]!;
    for (let k = first; k < this.start[vm + 1]!; k++) {
      if (!this.allowed(k, demand.models)) continue;
      const ok =
        demand.count === 1
          ? this.reserved[k]! + demand.milli <= this.capacity[k]!
          : this.reserved[k] === 0 && this.capacity[k] === WHOLE_GPU;
      if (ok) out.push(k - first);
    }
    return out;
  }

  /**
   * True when `devices` (local indexes) is a valid choice for `demand` on the VM: distinct, in range,
   * allowed, and each with the room. What the Scheduler checks an algorithm's choice against.
   */
  validChoice(vm: number, demand: DeviceDemand, devices: readonly number[]): boolean {
    if (this.listed[vm] === 0) return devices.length === 0 && demand.models === null;
    if (devices.length !== demand.count || new Set(devices).size !== devices.length) return false;
    const first = this.start[vm]!;
    const n = this.count(vm);
    return devices.every((g) => {
      if (!Number.isInteger(g) || g < 0 || g >= n) return false;
      const k = first + g;
      if (!this.allowed(k, demand.models)) return false;
      if (demand.count > 1) return this.reserved[k] === 0 && this.capacity[k] === WHOLE_GPU;
      return this.reserved[k]! + demand.milli <= this.capacity[k]!;
    });
  }

  /** Takes `milli` on each of `devices` (local indexes). The caller has checked validChoice. */
  reserve(vm: number, devices: readonly number[], milli: number): void {
    const first = this.start[vm]!;
    for (const g of devices) this.reserved[first + g]! += milli;
    this.revision[vm]!++;
    this.summarize(vm);
  }

  /** Gives `milli` back on each of `devices`, flooring at 0 like FleetState.release. */
  release(vm: number, devices: readonly number[], milli: number): void {
    const first = this.start[vm]!;
    const n = this.count(vm);
    for (const g of devices) {
      if (g >= 0 && g < n) this.reserved[first + g] = Math.max(0, this.reserved[first + g]! - milli);
    }
    this.revision[vm]!++;
    this.summarize(vm);
  }

  /**
   * How the fleet's devices are used right now: full (no room left), partly used, idle, and the
   * milli-GPU left free on partly used devices as a share of all device capacity (GPU stranded in
   * pieces: a whole-GPU task cannot use it). What `bcs simulate` reports per algorithm.
   */
  use(): GpuDeviceUse {
    let full = 0;
    let partial = 0;
    let idle = 0;
    let stranded = 0;
    let total = 0;
    for (let k = 0; k < this.capacity.length; k++) {
      const c = this.capacity[k]!;
      const r = this.reserved[k]!;
      total += c;
      if (r >= c) full++;
      else if (r > 0) {
        partial++;
        stranded += c - r;
      } else idle++;
    }
    return {
      devices: this.capacity.length,
      full,
      partial,
      idle,
      stranded_share: total > 0 ? stranded / total : 0,
    };
  }

  /** milli-GPU reserved on each device of the VM, in device order: what the ledger and the dashboard show. */
  reservedOf(vm: number): number[] {
    return Array.from(this.reserved.subarray(this.start[vm]!, this.start[vm + 1]!));
  }
}
