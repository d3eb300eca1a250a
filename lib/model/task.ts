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

/**
 * The first task of each id, and the ids that came more than once in one request (each once). A
 * later copy is dropped: one id is one ledger record, and docs/reliability.md promises the first is
 * accepted and the others reported as duplicates. Shared by the local intake and the enqueue function.
 */
export function firstOfEachId(tasks: readonly Task[]): { unique: Task[]; repeated: string[] } {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  const unique: Task[] = [];
  for (const task of tasks) {
    if (seen.has(task.id)) repeated.add(task.id);
    else unique.push(task);
    seen.add(task.id);
  }
  return { unique, repeated: [...repeated] };
}
