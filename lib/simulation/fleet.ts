import type { Dimensions } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm } from '../model/vm';
import { FleetState } from '../scheduling/fleet-state';

/**
 * The simulated fleet: one FleetState for the whole run, so placement costs what the scheduler
 * costs and nothing is re-laid out per event. The scheduler reserves in it; this class adds what a
 * simulation needs on top: releasing a finished task, keeping measured usage equal to reservations
 * (tasks use what they ask for) and keeping the usage history that history-aware algorithms read.
 *
 * Usage and history are written into FleetState's rows directly (`vm * width + dimension`), which
 * FleetState allows: it caches nothing derived from them.
 */
export class SimulatedFleet {
  readonly state: FleetState;
  private readonly index = new Map<string, number>();
  /** Ring of usage samples per VM: [sample][vm * width + d]. */
  private readonly history: Float64Array[];
  private samples = 0;

  constructor(
    vms: readonly Vm[],
    readonly dimensions: Dimensions,
    readonly historyWindow: number,
  ) {
    const idle = vms.map((vm) => ({ ...vm, reserved: {}, usage: {}, history: [], activeTasks: 0 }));
    this.state = FleetState.from(idle, dimensions, historyWindow);
    for (const [i, vm] of vms.entries()) this.index.set(vm.id, i);
    this.history = Array.from(
      { length: historyWindow },
      () => new Float64Array(this.state.size * this.state.width),
    );
  }

  indexOf(vmId: string): number {
    const i = this.index.get(vmId);
    if (i === undefined) throw new Error(`unknown VM ${vmId}`);
    return i;
  }

  /** After the scheduler reserved on VM i: usage follows. */
  reserved(i: number): void {
    const { width, reserved, usage } = this.state;
    for (let d = 0, k = i * width; d < width; d++, k++) usage[k] = reserved[k]!;
  }

  /** A task on VM i finished: its reservation (and its GPU devices, when it held some) returns, and usage follows. */
  release(i: number, task: Task, devices?: readonly number[]): void {
    this.state.release(i, task);
    const gpu = task.requirements.gpu ?? 0;
    if (devices !== undefined && devices.length > 0 && this.state.devices !== null) {
      this.state.devices.release(i, devices, gpu / devices.length);
    }
    this.reserved(i);
  }

  /** Free room on VM i, per dimension in fleet order. */
  free(i: number): Float64Array {
    const { width, capacity, reserved } = this.state;
    const free = new Float64Array(width);
    for (let d = 0, k = i * width; d < width; d++, k++) free[d] = capacity[k]! - reserved[k]!;
    return free;
  }

  /** A monitoring sample: every VM's usage joins its history and the history means are refreshed. */
  recordUsage(): void {
    const { usage, historyMean } = this.state;
    this.history[this.samples % this.historyWindow]!.set(usage);
    this.samples++;
    const kept = Math.min(this.samples, this.historyWindow);
    for (let k = 0; k < usage.length; k++) {
      let sum = 0;
      for (let s = 0; s < kept; s++) sum += this.history[s]![k]!;
      historyMean[k] = sum / kept;
    }
  }

  /** The fleet as plain VMs, for the metrics. */
  toVms(): Vm[] {
    return this.state.toVms();
  }
}
