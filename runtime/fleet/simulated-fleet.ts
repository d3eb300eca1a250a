import { addAmounts, subtractAmounts } from '../../lib/model/amount';
import type { Dimensions, ResourceVector } from '../../lib/model/resources';
import { zeroVector } from '../../lib/model/resources';
import type { GpuDevice, Vm, VmLabels, VmState } from '../../lib/model/vm';
import type { FleetSource } from '../../lib/ports/fleet-source';
import { GPU_DIMENSION, WHOLE_GPU } from '../../lib/scheduling/devices';
import { EventQueue } from '../../lib/simulation/event-queue';
import type { Random } from '../../lib/simulation/rng';

export interface SimulatedFleetOptions {
  dimensions: Dimensions;
  /** Capacity of a VM added without one. */
  defaultCapacity: ResourceVector;
  /** Zones assigned round-robin to new VMs (label `zone`). */
  zones: readonly string[];
  /** Wall-clock speed-up: a task of d seconds runs d / speed seconds. */
  speed: number;
  /** Relative standard deviation of measured usage around what the running tasks reserve. */
  noise: number;
  /** Samples of usage kept per VM. */
  historyWindow: number;
  random: Random;
  /**
   * GPU model of the VMs' devices: a VM then lists one device of 1000 milli-GPU of this model per
   * 1000 of its `gpu` capacity (as an EC2 GPU instance does). Without it VMs list no devices.
   */
  gpuModel?: string;
}

/**
 * Who finishes a VM's tasks: the simulation (after their duration, sped up), or an agent running on
 * the VM that reports each completion itself (agent/, docs/agent.md).
 */
export type VmManagement = 'simulation' | 'agent';

interface RunningTask {
  vmId: string;
  requirements: ResourceVector;
  startedAt: number;
}

interface SimulatedVm {
  id: string;
  capacity: ResourceVector;
  labels: VmLabels;
  state: VmState;
  managed: VmManagement;
  usage: ResourceVector;
  history: ResourceVector[];
  running: Set<string>;
  /** Sum of the requirements of `running`, kept as tasks start and stop: listing the fleet is on the scheduling path. */
  reserved: ResourceVector;
  /** A drained VM leaves at the first tick it runs nothing; false leaves that to `retire`. */
  retireWhenEmpty: boolean;
  /** Its GPU devices (who holds them is the ledger's business: the engine overlays that). */
  gpus?: readonly GpuDevice[];
}

/**
 * Stands in for the original system's backend VMs and their host: measured usage follows the tasks
 * each VM runs, plus noise; tasks run for their duration (sped up) and are then reported finished.
 * A drained VM takes no new tasks and leaves the fleet once its last task is gone.
 */
export class SimulatedFleet implements FleetSource {
  private readonly vms = new Map<string, SimulatedVm>();
  private readonly tasks = new Map<string, RunningTask>();
  private readonly finishing = new EventQueue<string>();
  /** VMs that left the fleet, so one a late decision still placed a task on can come back. */
  private readonly departed = new Map<
    string,
    { capacity: ResourceVector; labels: VmLabels; managed: VmManagement; gpuModel: string | undefined }
  >();
  private nextIndex = 1;
  private zoneCursor = 0;

  constructor(private readonly options: SimulatedFleetOptions) {}

  async listVms(): Promise<Vm[]> {
    return this.snapshot();
  }

  /** Synchronous view for the HTTP layer. `reserved` here is what the simulation runs, not the ledger. */
  snapshot(): Vm[] {
    return [...this.vms.values()].map((vm) => ({
      id: vm.id,
      capacity: { ...vm.capacity },
      reserved: { ...vm.reserved },
      usage: { ...vm.usage },
      history: vm.history.map((h) => ({ ...h })),
      activeTasks: vm.running.size,
      labels: { ...vm.labels },
      state: vm.state,
      ...(vm.gpus === undefined ? {} : { gpus: vm.gpus.map((g) => ({ ...g })) }),
    }));
  }

  get size(): number {
    return this.vms.size;
  }

  has(vmId: string): boolean {
    return this.vms.has(vmId);
  }

  /** Who finishes the VM's tasks; null for an unknown VM. */
  managedBy(vmId: string): VmManagement | null {
    return this.vms.get(vmId)?.managed ?? null;
  }

  /**
   * Adds VMs named vm-001, vm-002, ... in order, so a restarted runtime recreates the ids the ledger
   * already holds reservations for.
   */
  addVms(
    count: number,
    capacity: Partial<ResourceVector> = {},
    labels: VmLabels = {},
    managed: VmManagement = 'simulation',
    gpuModel: string | undefined = this.options.gpuModel,
  ): string[] {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      let id = vmName(this.nextIndex++);
      while (this.vms.has(id)) id = vmName(this.nextIndex++);
      this.addVm(id, capacity, labels, 'active', managed, gpuModel);
      ids.push(id);
    }
    return ids;
  }

  /** Adds one VM with a given id (used to bring back VMs that still hold tasks after a restart). */
  addVm(
    id: string,
    capacity: Partial<ResourceVector> = {},
    labels: VmLabels = {},
    state: VmState = 'active',
    managed: VmManagement = 'simulation',
    gpuModel: string | undefined = this.options.gpuModel,
  ): void {
    const { dimensions, defaultCapacity, zones } = this.options;
    const cap = zeroVector(dimensions);
    for (const d of dimensions) cap[d] = capacity[d] ?? defaultCapacity[d] ?? 0;
    const gpus = gpuModel === undefined ? undefined : simulatedDevices(gpuModel, cap[GPU_DIMENSION] ?? 0);
    const zone = zones[this.zoneCursor++ % zones.length];
    this.vms.set(id, {
      id,
      capacity: cap,
      labels: {
        ...(zone === undefined ? {} : { zone }),
        pool: managed === 'agent' ? 'agent' : 'simulated',
        ...labels,
      },
      state,
      managed,
      usage: zeroVector(dimensions),
      history: [],
      running: new Set(),
      reserved: zeroVector(dimensions),
      retireWhenEmpty: true,
      ...(gpus === undefined ? {} : { gpus }),
    });
    this.departed.delete(id);
  }

  /**
   * Stops new placements on a VM. By default it leaves at the first tick it runs nothing; with
   * `retireWhenEmpty: false` it stays until `retire` (the autoscaler checks the ledger first).
   * Returns false for an unknown VM.
   */
  drain(vmId: string, options: { retireWhenEmpty?: boolean } = {}): boolean {
    const vm = this.vms.get(vmId);
    if (!vm) return false;
    vm.state = 'draining';
    vm.retireWhenEmpty = options.retireWhenEmpty ?? true;
    return true;
  }

  /** Removes a draining VM that runs nothing; false (and nothing removed) otherwise. */
  retire(vmId: string): boolean {
    const vm = this.vms.get(vmId);
    if (vm?.state !== 'draining' || vm.running.size > 0) return false;
    this.remove(vm);
    return true;
  }

  /** Tasks the simulation runs on a VM; 0 for an unknown VM. */
  runningOn(vmId: string): number {
    return this.vms.get(vmId)?.running.size ?? 0;
  }

  /**
   * Brings back, draining, a VM that left the fleet: a batch decided on a listing taken before the
   * VM left may still place a task on it, and that task must run and end like any other.
   * Returns false if the VM is present or was never known.
   */
  revive(vmId: string): boolean {
    const gone = this.departed.get(vmId);
    if (!gone || this.vms.has(vmId)) return false;
    this.addVm(vmId, gone.capacity, gone.labels, 'draining', gone.managed, gone.gpuModel);
    return true;
  }

  /**
   * The engine placed a task: the VM starts running it now. On an agent-managed VM its usage follows
   * the reservation as on any other, but only the agent's report (then `stop`) or lease expiry ends it.
   */
  start(
    taskId: string,
    vmId: string,
    requirements: ResourceVector,
    durationS: number,
    startedAt: number,
  ): void {
    const vm = this.vms.get(vmId);
    if (!vm || this.tasks.has(taskId)) return;
    this.tasks.set(taskId, { vmId, requirements, startedAt });
    if (vm.managed === 'simulation')
      this.finishing.push(startedAt + (durationS * 1000) / this.options.speed, taskId);
    vm.running.add(taskId);
    for (const d of this.options.dimensions)
      vm.reserved[d] = addAmounts(vm.reserved[d] ?? 0, requirements[d] ?? 0);
  }

  /** When the task started running (epoch ms), or undefined when it does not run here. */
  startedAt(taskId: string): number | undefined {
    return this.tasks.get(taskId)?.startedAt;
  }

  /**
   * Offers tasks whose run ended (returned by `tick`) again at `at`, for the runtime to retry a
   * completion that failed to commit; a task the ledger has closed meanwhile (`stop`) is skipped.
   */
  finishAgain(taskIds: readonly string[], at: number): void {
    for (const id of taskIds) if (this.tasks.has(id)) this.finishing.push(at, id);
  }

  /** The ledger closed the task (completed, failed or expired): it stops running. */
  stop(taskId: string): void {
    const task = this.tasks.get(taskId);
    if (!task) return;
    this.tasks.delete(taskId);
    const vm = this.vms.get(task.vmId);
    if (!vm) return;
    vm.running.delete(taskId);
    for (const d of this.options.dimensions)
      vm.reserved[d] = subtractAmounts(vm.reserved[d] ?? 0, task.requirements[d] ?? 0);
    // Exact already (micro-units); an idle VM is also reset in case a task was stopped twice.
    if (vm.running.size === 0) vm.reserved = zeroVector(this.options.dimensions);
  }

  /**
   * Samples usage (previous sample moves into the history window), retires drained VMs that are
   * empty, and returns the ids of tasks whose run time ended since the last tick, each once; they
   * keep their reservation until `stop`. A task whose completion then fails is offered again through
   * `finishAgain`.
   */
  tick(now: number): string[] {
    const { dimensions, noise, historyWindow, random } = this.options;
    for (const vm of this.vms.values()) {
      if (vm.state === 'draining' && vm.retireWhenEmpty && vm.running.size === 0) {
        this.remove(vm);
        continue;
      }
      vm.history.push(vm.usage);
      if (vm.history.length > historyWindow) vm.history.splice(0, vm.history.length - historyWindow);
      const usage = zeroVector(dimensions);
      for (const d of dimensions) {
        const mean = Math.max(0, vm.reserved[d] ?? 0);
        const sample = mean * (1 + noise * gaussian(random));
        usage[d] = Math.min(vm.capacity[d] ?? 0, Math.max(0, sample));
      }
      vm.usage = usage;
    }
    const finished: string[] = [];
    while ((this.finishing.peekTime() ?? Number.POSITIVE_INFINITY) <= now) {
      const id = this.finishing.pop()!.event;
      if (this.tasks.has(id)) finished.push(id);
    }
    return finished;
  }

  private remove(vm: SimulatedVm): void {
    this.vms.delete(vm.id);
    this.departed.set(vm.id, {
      capacity: vm.capacity,
      labels: vm.labels,
      managed: vm.managed,
      gpuModel: vm.gpus?.[0]?.model,
    });
  }
}

/**
 * One 1000 milli-GPU device of `model` per 1000 of `gpu` capacity; none when the VM has no GPU.
 * Callers validate that `gpu` is a whole number of GPUs (lib/schemas/config.ts, runtime addVms).
 */
export function simulatedDevices(model: string, gpu: number): GpuDevice[] | undefined {
  const count = Math.floor(gpu / WHOLE_GPU);
  if (count <= 0) return undefined;
  return Array.from({ length: count }, () => ({ model, milli: WHOLE_GPU }));
}

function vmName(index: number): string {
  return `vm-${String(index).padStart(3, '0')}`;
}

/** Standard normal by Box-Muller; 1 - next() is in (0, 1], so the logarithm is finite. */
function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
}
