import type { Task } from '../../model/task';
import {
  collectFeasible,
  explainInfeasible,
  type PlacementAlgorithm,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import { deviceShape, GPU_DIMENSION, WHOLE_GPU } from '../devices';
import type { FleetState } from '../fleet-state';
import { formatNumber } from '../format';
import { lowestLeftover, scaledDemand } from '../scoring';

/** Task shapes kept in the learned workload; the rest (a long tail of rare shapes) is left out. */
export const FGD_MAX_TYPES = 48;
/**
 * Fragmentation growths within this many milli-GPU of the best count as equal, and the tighter fit
 * (best-fit's score) decides: a difference of 5 % of one GPU in an expectation is noise.
 */
export const FGD_TOLERANCE_MILLI = 50;

/** Extra cached shapes outside the learned workload (rare shapes placed more than once). */
const TAIL_SLOTS = 64;
/** The learned workload is rebuilt each time the tasks observed double from 16, then every 65,536. */
const FIRST_REFRESH = 16;
const REFRESH_EVERY = 65_536;

/** One task shape of the learned workload: what fragmentation is measured against. */
interface TaskType {
  key: string;
  cpu: number;
  /** GPU devices (0 for a CPU-only task) and milli-GPU on each. */
  count: number;
  milli: number;
  models: readonly string[] | null;
  seen: number;
}

/**
 * Fragmentation Gradient Descent (Weng et al., "Beware of Fragmentation", USENIX ATC'23), written
 * from the paper's definitions, plus two changes of our own.
 *
 * Fragmentation of a node for one task shape m: the node's free GPU milli that m cannot use. If m
 * cannot run on the node at all (CPU short, no device of an allowed model with the room, too few
 * whole free GPUs), ALL its free GPU is fragment; otherwise each device whose free milli is below
 * m's per-device demand (or of a model m may not use) is fragment. A CPU-only shape that fits
 * leaves no fragment. The node's fragmentation for a workload is the popularity-weighted sum over
 * the workload's shapes. FGD places each task where this sum GROWS LEAST (the steepest descent of
 * the cluster's fragmentation), trying every distinct device choice on the node.
 *
 * Differences from the paper, all independent of any particular trace:
 * - The workload is learned online from the tasks this instance has been asked to place (their
 *   shapes and counts), not read from the whole trace in advance, so it works in the live
 *   scheduler; it is refreshed at doubling counts from 16, then every 65,536 tasks.
 * - Growths within FGD_TOLERANCE_MILLI of the least count as equal. Among those VMs, first the one
 *   whose GPU model the model-constrained shapes claim least (`claims`), then the tightest fit
 *   (best-fit's score); on a node, the device with the least room that holds a share, which keeps
 *   empty nodes and whole GPUs whole.
 *
 * Cost: fragmentation depends only on a VM's free CPU and its devices' free milli and models, so
 * growths are cached per group of VMs in the same state and per task shape (FragCache); a VM is
 * regrouped only when its revision moved (one VM per decision). A decision is then the shared
 * filter plus one pass over the feasible VMs reading cached values. Without GPU devices in the
 * fleet there is nothing to fragment and it is best-fit.
 */
export class FgdAlgorithm implements PlacementAlgorithm {
  readonly name = 'fgd';
  private readonly types = new Map<string, TaskType>();
  private observed = 0;
  private nextRefresh = FIRST_REFRESH;
  /** The learned workload: the most popular shapes and their weights (sum 1). */
  private workload: TaskType[] = [];
  private weights = new Float64Array(0);
  private cache: FragCache | null = null;

  select(request: PlacementRequest, fleet: FleetState): Selection {
    const key = shapeKey(request.task);
    this.observe(request.task, key);
    const demandScaled = scaledDemand(fleet, request.demand);
    const feasible = collectFeasible(fleet, request);
    if (feasible === 0) return { index: -1, reason: explainInfeasible(fleet, request) };
    const devices = fleet.devices;
    if (devices === null) {
      const { index, value } = lowestLeftover(fleet, feasible, demandScaled);
      return {
        index,
        score: 1 - value,
        reason: `no GPU devices to fragment; tightest fit of ${feasible} feasible VMs`,
      };
    }
    const cache = this.cacheFor(fleet);
    const type = cache.slotOf(key);
    const shape = taskShape(request.task, fleet);
    // Pass 1: every candidate's growth and the least of them.
    let least = Number.POSITIVE_INFINITY;
    for (let k = 0; k < feasible; k++) {
      const i = fleet.candidates[k]!;
      const group = cache.groupFor(i);
      let delta: number;
      if (type >= 0) {
        delta = cache.deltaOf(i, group, shape, type);
        cache.chosen[k] = cache.device[group * cache.typeCount + type]!;
      } else {
        delta = cache.growth(i, group, shape);
        cache.chosen[k] = cache.grownDevice;
      }
      cache.growths[k] = delta;
      if (delta < least) least = delta;
    }
    // Pass 2: within the tolerance band above the least growth, the VM whose GPU model is least
    // claimed by model-constrained shapes, then the tightest fit; first on ties.
    let best = -1;
    let bestK = -1;
    let bestClaim = Number.POSITIVE_INFINITY;
    let bestFit = Number.NEGATIVE_INFINITY;
    const limit = least + FGD_TOLERANCE_MILLI;
    for (let k = 0; k < feasible; k++) {
      if (cache.growths[k]! > limit) continue;
      const i = fleet.candidates[k]!;
      const claim = cache.claim[i]!;
      if (claim > bestClaim) continue;
      const fit = fitScore(fleet, i, demandScaled);
      if (claim < bestClaim || fit > bestFit) {
        best = i;
        bestK = k;
        bestClaim = claim;
        bestFit = fit;
      }
    }
    const bestDelta = cache.growths[bestK]!;
    const bestDevice = cache.chosen[bestK]!;
    const reason = `least fragmentation growth of ${feasible} feasible VMs: ${bestDelta > 0 ? '+' : ''}${formatNumber(bestDelta)} milli-GPU expected unusable by the learned workload (${this.workload.length} task shapes)`;
    const score = -bestDelta;
    if (request.gpu === null || devices.count(best) === 0) return { index: best, score, reason };
    if (request.gpu.count === 1) return { index: best, score, reason, devices: [bestDevice] };
    // Whole devices: all free whole GPUs are alike for fragmentation; the default choice takes the lowest.
    return { index: best, score, reason };
  }

  /** Counts the task's shape and, at the refresh points, rebuilds the learned workload. */
  private observe(task: Task, key: string): void {
    let type = this.types.get(key);
    if (type === undefined) {
      const gpu = task.requirements[GPU_DIMENSION] ?? 0;
      const shape = gpu === 0 ? { count: 0, milli: 0 } : deviceShape(gpu);
      if (typeof shape === 'string') return; // never placeable on devices: not part of the workload
      type = {
        key,
        cpu: task.requirements.cpu ?? 0,
        count: shape.count,
        milli: shape.milli,
        models: task.gpuModels?.length ? task.gpuModels : null,
        seen: 0,
      };
      this.types.set(key, type);
    }
    type.seen++;
    this.observed++;
    if (this.observed >= this.nextRefresh || this.workload.length === 0) {
      this.nextRefresh = this.observed < REFRESH_EVERY ? this.observed * 2 : this.observed + REFRESH_EVERY;
      const top = [...this.types.values()].sort((a, b) => b.seen - a.seen || (a.key < b.key ? -1 : 1));
      this.workload = top.slice(0, FGD_MAX_TYPES);
      const total = this.workload.reduce((sum, t) => sum + t.seen, 0);
      this.weights = Float64Array.from(this.workload, (t) => t.seen / total);
      this.cache = null; // growth values were for the old workload
    }
  }

  private cacheFor(fleet: FleetState): FragCache {
    if (this.cache === null || this.cache.fleet !== fleet) {
      this.cache = new FragCache(fleet, this.workload, this.weights);
    }
    return this.cache;
  }
}

/** What the fragmentation arithmetic needs of a task: its CPU and its device demand. */
interface Shape {
  cpu: number;
  count: number;
  milli: number;
  /** Allowed model ids of the fleet's devices, or null for any. */
  models: Int32Array | null;
}

function taskShape(task: Task, fleet: FleetState): Shape {
  const gpu = task.requirements[GPU_DIMENSION] ?? 0;
  const shape = gpu === 0 ? { count: 0, milli: 0 } : deviceShape(gpu);
  const { count, milli } = typeof shape === 'string' ? { count: 0, milli: 0 } : shape;
  const models = task.gpuModels?.length ? fleet.devices!.modelIds(task.gpuModels) : null;
  return { cpu: task.requirements.cpu ?? 0, count, milli, models };
}

function shapeKey(task: Task): string {
  const models = task.gpuModels?.length ? [...task.gpuModels].sort().join('|') : '';
  return `${task.requirements.cpu ?? 0}/${task.requirements[GPU_DIMENSION] ?? 0}/${models}`;
}

/** best-fit's score for tie-breaks (scoring.ts: bestFitScore, generic form). */
function fitScore(fleet: FleetState, i: number, demandScaled: number): number {
  const w = fleet.width;
  const b = i * w;
  let free = 0;
  for (let d = 0; d < w; d++)
    free += (fleet.capacity[b + d]! - fleet.reserved[b + d]!) * fleet.inverseMaxCapacity[d]!;
  return 1 - (free - demandScaled) / w;
}

/**
 * Per fleet: the growth a placement of each workload shape would cause, per GROUP of VMs in the
 * same state. Fragmentation depends only on a VM's free CPU and its devices' free milli and models,
 * so VMs alike in those (every empty node of a kind, and the many partly used ones alike) share one
 * group and each growth is computed once per group, not per VM. A VM's group is looked up again
 * only when its revision (FleetState.revision, GpuDevices.revision) moved, i.e. after a placement
 * or a release on it: one VM per decision.
 */
class FragCache {
  readonly typeCount: number;
  /** Per VM: how much of its GPU model's capacity the model-constrained shapes of the workload claim. */
  readonly claim: Float64Array;
  /** Per VM: its group, -1 before it has one. */
  private readonly groupOf: Int32Array;
  /** Per VM: the revisions its group was looked up at. */
  private readonly seenRevision: Uint32Array;
  private readonly seenDeviceRevision: Uint32Array;
  /** Group ids by state signature. */
  private readonly groups = new Map<string, number>();
  private groupCapacity: number;
  /** Per (group, shape): growth, NaN until computed; and the device chosen for a share, -1 otherwise. */
  delta: Float64Array;
  device: Int16Array;
  /** Per group: its fragmentation for the workload now. */
  private before: Float64Array;
  private readonly cpu: number;
  private readonly shapes: Shape[];
  /** Scratch per candidate position: its growth and its device choice, for the two passes of select. */
  readonly growths: Float64Array;
  readonly chosen: Int16Array;
  /** Cache slot per shape key: the workload's shapes first, then rare shapes as they come. */
  private readonly slots = new Map<string, number>();
  /** Scratch: the free milli of the devices of one VM. */
  private readonly free = new Float64Array(64);
  /** The groups kept before they are all forgotten (a long-lived fleet drifts through many states). */
  private readonly maxGroups: number;

  constructor(
    readonly fleet: FleetState,
    workload: readonly TaskType[],
    private readonly weights: Float64Array,
  ) {
    const n = fleet.size;
    this.typeCount = workload.length + TAIL_SLOTS;
    for (const [k, t] of workload.entries()) this.slots.set(t.key, k);
    this.groupOf = new Int32Array(n).fill(-1);
    this.seenRevision = new Uint32Array(n);
    this.seenDeviceRevision = new Uint32Array(n);
    this.maxGroups = Math.max(1024, 4 * n);
    this.groupCapacity = Math.min(this.maxGroups, 256);
    this.delta = new Float64Array(this.groupCapacity * this.typeCount).fill(Number.NaN);
    this.device = new Int16Array(this.groupCapacity * this.typeCount).fill(-1);
    this.before = new Float64Array(this.groupCapacity);
    this.growths = new Float64Array(n);
    this.chosen = new Int16Array(n);
    this.cpu = fleet.dimensions.indexOf('cpu');
    this.claim = claims(fleet, workload);
    this.shapes = workload.map((t) => ({
      cpu: t.cpu,
      count: t.count,
      milli: t.milli,
      models: t.models === null ? null : fleet.devices!.modelIds(t.models),
    }));
  }

  /** The cache slot of a task shape, or -1 when every slot is taken (then growth is computed uncached). */
  slotOf(key: string): number {
    const slot = this.slots.get(key);
    if (slot !== undefined) return slot;
    if (this.slots.size >= this.typeCount) return -1;
    this.slots.set(key, this.slots.size);
    return this.slots.size - 1;
  }

  /** VM i's group, looked up again when its reservations changed since the last time. */
  groupFor(i: number): number {
    const fleet = this.fleet;
    const devices = fleet.devices!;
    const group = this.groupOf[i]!;
    if (
      group >= 0 &&
      this.seenRevision[i] === fleet.revision[i] &&
      this.seenDeviceRevision[i] === devices.revision[i]
    ) {
      return group;
    }
    this.seenRevision[i] = fleet.revision[i]!;
    this.seenDeviceRevision[i] = devices.revision[i]!;
    const n = this.loadFree(i);
    let key = `${this.freeCpu(i)}`;
    const first = devices.start[i]!;
    for (let g = 0; g < n; g++) key += `,${this.free[g]}:${devices.model[first + g]}`;
    let id = this.groups.get(key);
    if (id === undefined) {
      if (this.groups.size >= this.maxGroups) this.forget();
      id = this.groups.size;
      this.groups.set(key, id);
      if (id >= this.groupCapacity) this.grow();
      this.before[id] = this.fragmentation(i, this.freeCpu(i), this.loadFree(i));
    }
    this.groupOf[i] = id;
    return id;
  }

  /** The growth of VM i (in `group`) for the cached shape `type`; its device choice in device[]. */
  deltaOf(i: number, group: number, shape: Shape, type: number): number {
    const slot = group * this.typeCount + type;
    const cached = this.delta[slot]!;
    if (!Number.isNaN(cached)) return cached;
    this.delta[slot] = this.growth(i, group, shape);
    this.device[slot] = this.grownDevice;
    return this.delta[slot]!;
  }

  private grow(): void {
    const capacity = Math.min(this.maxGroups, this.groupCapacity * 2);
    const delta = new Float64Array(capacity * this.typeCount).fill(Number.NaN);
    delta.set(this.delta);
    const device = new Int16Array(capacity * this.typeCount).fill(-1);
    device.set(this.device);
    const before = new Float64Array(capacity);
    before.set(this.before);
    this.delta = delta;
    this.device = device;
    this.before = before;
    this.groupCapacity = capacity;
  }

  /** Drops every group: each VM is grouped again the next time it is a candidate. */
  private forget(): void {
    this.groups.clear();
    this.groupOf.fill(-1);
    this.delta.fill(Number.NaN);
    this.device.fill(-1);
  }

  /** The device of the last `growth` for a share, -1 otherwise (a field, so that growth allocates nothing). */
  grownDevice = -1;

  /**
   * Growth of VM i's fragmentation (its group's `before`) if `shape` were placed on it, the least
   * over the distinct device choices; the device is left in grownDevice.
   */
  growth(i: number, group: number, shape: Shape): number {
    const n = this.loadFree(i);
    const before = this.before[group]!;
    const cpuAfter = this.freeCpu(i) - shape.cpu;
    const free = this.free;
    if (shape.count !== 1 || n === 0) {
      if (shape.count > 1) {
        // Whole devices: the lowest-indexed free ones (all alike), as the default choice takes.
        let taken = 0;
        for (let g = 0; g < n && taken < shape.count; g++) {
          if (free[g] === WHOLE_GPU && this.allowed(i, g, shape.models)) {
            free[g] = 0;
            taken++;
          }
        }
      }
      this.grownDevice = -1;
      return this.fragmentation(i, cpuAfter, n) - before;
    }
    let bestDelta = Number.POSITIVE_INFINITY;
    let bestDevice = -1;
    let bestRoom = Number.POSITIVE_INFINITY;
    for (let g = 0; g < n; g++) {
      const room = free[g]!;
      if (room < shape.milli || !this.allowed(i, g, shape.models)) continue;
      // Devices with the same free room give the same fragmentation: try each room once.
      let repeat = false;
      for (let h = 0; h < g && !repeat; h++) {
        repeat = free[h] === room && room >= shape.milli && this.allowed(i, h, shape.models);
      }
      if (repeat) continue;
      free[g] = room - shape.milli;
      const delta = this.fragmentation(i, cpuAfter, n) - before;
      free[g] = room;
      if (delta < bestDelta - 1e-9 || (delta <= bestDelta + 1e-9 && room < bestRoom)) {
        bestDelta = delta;
        bestDevice = g;
        bestRoom = room;
      }
    }
    this.grownDevice = bestDevice;
    return bestDelta;
  }

  private allowed(i: number, g: number, models: Int32Array | null): boolean {
    if (models === null) return true;
    const m = this.fleet.devices!.model[this.fleet.devices!.start[i]! + g]!;
    for (let j = 0; j < models.length; j++) if (models[j] === m) return true;
    return false;
  }

  private freeCpu(i: number): number {
    if (this.cpu < 0) return Number.POSITIVE_INFINITY;
    const k = i * this.fleet.width + this.cpu;
    return this.fleet.capacity[k]! - this.fleet.reserved[k]!;
  }

  /** Copies VM i's free milli per device into `free`; returns the number of devices. */
  private loadFree(i: number): number {
    const devices = this.fleet.devices!;
    const first = devices.start[i]!;
    const n = Math.min(devices.start[i + 1]! - first, this.free.length);
    for (let g = 0; g < n; g++) this.free[g] = devices.capacity[first + g]! - devices.reserved[first + g]!;
    return n;
  }

  /** The popularity-weighted fragmentation of VM i with `cpuFree` CPU and the devices' free room in `free`. */
  private fragmentation(i: number, cpuFree: number, n: number): number {
    const free = this.free;
    let total = 0;
    for (let g = 0; g < n; g++) total += free[g]!;
    if (total === 0) return 0;
    let sum = 0;
    for (let t = 0; t < this.shapes.length; t++) {
      const m = this.shapes[t]!;
      let frag: number;
      if (m.cpu > cpuFree) {
        frag = total;
      } else if (m.count === 0) {
        frag = 0;
      } else {
        let usable = 0;
        frag = 0;
        for (let g = 0; g < n; g++) {
          const room = free[g]!;
          if (room >= m.milli && this.allowed(i, g, m.models)) usable++;
          else frag += room;
        }
        if (usable < m.count) frag = total;
      }
      sum += this.weights[t]! * frag;
    }
    return sum;
  }
}

/**
 * Per VM, how heavily the model-constrained shapes of the workload lean on its GPU model: the GPU
 * demand (tasks seen x milli) of every shape that names models, spread over the models it allows in
 * proportion to their capacity in the fleet, divided by that model's capacity (the largest over the
 * VM's models). 0 for every VM when no shape names a model. A task that may run anywhere then goes,
 * among equally fragmenting VMs, to the model the constrained tasks need least: the fragmentation
 * measure sees the constrained shapes too, but weighted by popularity their share is often below
 * the tolerance band, and without this a run can fill a model's GPUs with tasks that could have run
 * elsewhere and then reject the tasks that can only run there.
 */
function claims(fleet: FleetState, workload: readonly TaskType[]): Float64Array {
  const devices = fleet.devices!;
  const models = devices.modelNames.length;
  const capacity = new Float64Array(models);
  for (let k = 0; k < devices.capacity.length; k++) capacity[devices.model[k]!]! += devices.capacity[k]!;
  const demand = new Float64Array(models);
  for (const t of workload) {
    if (t.models === null || t.count === 0) continue;
    const ids = devices.modelIds(t.models);
    let cap = 0;
    for (const id of ids) cap += capacity[id]!;
    if (cap === 0) continue;
    for (const id of ids) demand[id]! += (t.seen * t.count * t.milli * capacity[id]!) / cap;
  }
  const out = new Float64Array(fleet.size);
  for (let i = 0; i < fleet.size; i++) {
    let c = 0;
    for (let k = devices.start[i]!; k < devices.start[i + 1]!; k++) {
      const m = devices.model[k]!;
      c = Math.max(c, demand[m]! / capacity[m]!);
    }
    out[i] = c;
  }
  return out;
}
