import type { ResourceVector } from './resources';

/** A unit of work to place. Built from validated external input (see lib/schemas). */
export interface Task {
  /** Client-supplied idempotency key, or generated at submission. */
  readonly id: string;
  /** What the task reserves on its VM while it runs, one entry per configured dimension. */
  readonly requirements: ResourceVector;
  /** Expected run time, seconds. */
  readonly duration: number;
  /** Absolute deadline, epoch seconds (the original system's unit). */
  readonly deadline: number;
  /** Higher runs first among equals. Default 0. */
  readonly priority: number;
  /** When the system accepted the task, epoch milliseconds. */
  readonly submittedAt: number;
  /** Free-form labels carried into the ledger and events. */
  readonly labels: Readonly<Record<string, string>>;
  /** VM labels that must match for a VM to be feasible (a node selector), e.g. { zone: 'eu-west-1a' }. */
  readonly constraints: Readonly<Record<string, string>>;
  /**
   * GPU models the task may run on (any one of them), e.g. ['V100M16', 'V100M32']; left out, any
   * model. Checked against the VMs' device lists (Vm.gpus).
   */
  readonly gpuModels?: readonly string[];
  /** Optional shell command run on the VM by the dispatcher (issue 7). */
  readonly command?: string;
}
