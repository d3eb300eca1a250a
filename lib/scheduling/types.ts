import type { Dimensions } from '../model/resources';
import type { Task } from '../model/task';
import type { VmSnapshot } from '../model/vm';

/** Tunables shared by the algorithms; each algorithm reads the ones it uses. */
export interface AlgorithmParams {
  /** blockchain: weight of current usage in the dynamic weight. Default 0.7. */
  alpha: number;
  /** blockchain: weight of historical usage in the dynamic weight. Default 0.3. */
  beta: number;
  /** blockchain: urgency time constant in UF = 1 / (tau * time_remaining). Default 1. */
  tau: number;
  /** Samples of measured usage kept per VM. Default 10. */
  historyWindow: number;
  /**
   * resource-based: relative weight of each dimension's free capacity. Dimensions left out weigh 1,
   * so the default weighs every dimension equally.
   */
  weights?: Readonly<Record<string, number>>;
}

export const DEFAULT_PARAMS: AlgorithmParams = { alpha: 0.7, beta: 0.3, tau: 1, historyWindow: 10 };

export interface ScheduleOptions {
  /** Epoch ms used for deadlines and urgency. */
  now: number;
  /** Seed for algorithms that randomise (p2c). Same inputs and seed give the same decisions. */
  seed?: number;
  params?: Partial<AlgorithmParams>;
  /** Dimensions to schedule on; default: the keys of the first VM's capacity. */
  dimensions?: Dimensions;
}

/**
 * Why a task was placed nowhere, which decides what the runtimes do with it:
 * - `capacity`: it would fit on some VM of the fleet whose labels match (counting its full capacity,
 *   active or draining) but on none with the room free now. The only transient kind: the engine
 *   returns such a task as deferred, to be tried again, instead of recording it.
 * - `never-fits`: larger than every matching VM's full capacity in some dimension, an empty fleet, or
 *   a requirement the fleet cannot express (a dimension it does not schedule).
 * - `constraints`: no VM's labels satisfy the task's constraints.
 * - `deadline`: the deadline has passed, or an algorithm's policy says it cannot be met (urgency).
 * - `policy`: the algorithm declined although some VM could take it now, for a reason of its own.
 */
export type RejectionKind = 'capacity' | 'never-fits' | 'constraints' | 'deadline' | 'policy';

/** One decision per task: where it goes, or why it goes nowhere. */
export interface Decision {
  task: Task;
  status: 'assigned' | 'rejected';
  vmId: string | null;
  /** The algorithm's score for the chosen VM (higher is better), null when rejected. Always finite. */
  score: number | null;
  /** Why this VM, or why none (names the binding dimension or the deadline). */
  reason: string;
  /** Set on every rejection the Scheduler makes: whether waiting could help (see RejectionKind). */
  rejection?: RejectionKind;
  /**
   * Local indexes of the chosen VM's GPU devices the task holds (its CUDA_VISIBLE_DEVICES), when the
   * fleet lists devices and the task asks for GPU; left out otherwise.
   */
  devices?: number[];
  /** The chosen VM before and after this task's reservation; null when rejected. */
  before: VmSnapshot | null;
  after: VmSnapshot | null;
}
