import type { Dimensions } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm } from '../model/vm';

/** Simulated time starts here (epoch ms) so that deadlines are ordinary epoch seconds. */
export const SIMULATION_EPOCH_MS = Date.UTC(2026, 0, 1);

/** A task and the instant (epoch ms) it is submitted. */
export interface Arrival {
  at: number;
  task: Task;
}

/** Everything a run needs: the fleet at the start and the tasks, in arrival order. */
export interface Workload {
  /** Short description for tables and reports, e.g. "synthetic 100 VMs, load 0.80". */
  name: string;
  dimensions: Dimensions;
  /** The fleet at time zero, nothing reserved. */
  vms: Vm[];
  /** Sorted by `at`, ascending. */
  arrivals: Arrival[];
  /** False for traces, which carry no deadlines: deadline compliance is then not reported. */
  hasDeadlines: boolean;
}
