import type { ResourceVector } from './resources';

export type VmState = 'active' | 'draining';

export interface VmLabels {
  pool?: string;
  zone?: string;
  instanceType?: string;
  [key: string]: string | undefined;
}

/**
 * One physical GPU of a VM. `milli` is its capacity in milli-GPU (1000 for a whole GPU, less for a
 * MIG slice); `reserved` is what tasks already placed on it hold (0 when left out).
 */
export interface GpuDevice {
  readonly model: string;
  readonly milli: number;
  readonly reserved?: number;
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
  /**
   * The VM's GPUs, in the order the driver numbers them (CUDA_VISIBLE_DEVICES indexes). When given,
   * their milli add up to capacity.gpu and a task's GPU demand must fit on devices (one device for
   * a share, whole devices otherwise); when left out, only the summed `gpu` dimension is checked.
   */
  readonly gpus?: readonly GpuDevice[];
}

/** The part of a VM's state the ledger records before and after a decision. */
export interface VmSnapshot {
  reserved: ResourceVector;
  usage: ResourceVector;
  active_tasks: number;
  /**
   * milli-GPU reserved on each GPU device of the VM, in device order, when the VM lists its devices
   * (Vm.gpus) and the snapshot was taken by the scheduler; left out otherwise.
   */
  gpus?: number[];
}
