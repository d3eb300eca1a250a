import type { ResourceVector } from './resources';

export type VmState = 'active' | 'draining';

export interface VmLabels {
  pool?: string;
  zone?: string;
  instanceType?: string;
  [key: string]: string | undefined;
}

/** One virtual machine as the scheduler sees it. */
export interface Vm {
  readonly id: string;
  /** Allocatable capacity per dimension. */
  readonly capacity: ResourceVector;
  /** Sum of the requirements of the tasks assigned to it and not yet finished. */
  readonly reserved: ResourceVector;
  /** Latest measured usage per dimension, same units as capacity. */
  readonly usage: ResourceVector;
  /** Earlier measured samples, oldest first, at most the configured history window. */
  readonly history: readonly ResourceVector[];
  /** Tasks assigned and not yet finished. */
  readonly activeTasks: number;
  readonly labels: Readonly<VmLabels>;
  readonly state: VmState;
}

/** The part of a VM's state the ledger records before and after a decision. */
export interface VmSnapshot {
  reserved: ResourceVector;
  usage: ResourceVector;
  active_tasks: number;
}
