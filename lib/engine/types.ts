import type { Block, ChainHead, TaskOutcome, Transaction } from '../ledger/types';
import type { Dimensions } from '../model/resources';
import type { Task } from '../model/task';
import type { Clock } from '../ports/clock';
import type { FleetSource, QuarantinedVm } from '../ports/fleet-source';
import type { LedgerStore, TaskRecord } from '../ports/ledger-store';
import type { AlgorithmParams, Decision } from '../scheduling/types';

export interface EngineOptions {
  store: LedgerStore;
  fleet: FleetSource;
  clock: Clock;
  /** Registry name, e.g. 'best-fit'. */
  algorithm: string;
  params?: Partial<AlgorithmParams>;
  seed?: number;
  dimensions: Dimensions;
  /** Maximum transactions per block. Default 5 (the original system's). */
  blockSize?: number;
  /** Compare-and-set attempts before giving up. Default 8. */
  maxAttempts?: number;
  /** Seconds added to a task's duration before its lease expires. Default 60. */
  leaseGraceSeconds?: number;
  /**
   * Most tasks decided per append; a larger batch is committed in consecutive chunks. Default no
   * limit. Stores with a transaction size limit (DynamoDB: 100 items) need one.
   */
  maxTasksPerCommit?: number;
  /**
   * How long a task may wait for capacity, seconds from its submittedAt. A task that fits no VM's
   * free room now but would fit some VM's full capacity is deferred (returned, not recorded) until
   * then, and recorded as rejected "no capacity within N s" after. Its deadline still applies: one
   * that passes while it waits is rejected on the next attempt. 0 rejects at once. Default 900.
   */
  maxWaitSeconds?: number;
}

/** A task the engine did not decide this time: nothing was written for it; offer it again later. */
export interface DeferredTask {
  task: Task;
  /** Why it was not placed now (names the binding dimension). */
  reason: string;
}

export interface ScheduleOutcome {
  /** One per task that this call decided and committed. */
  decisions: Decision[];
  /** Ids of tasks already recorded in the ledger (redelivered): nothing was written for them. */
  duplicates: string[];
  /** The ledger's records of the tasks in `duplicates` that were already in it (omitted by older engines). */
  recorded?: TaskRecord[];
  /**
   * Tasks that fit no VM's free room now but would fit one's full capacity, within their wait: not
   * recorded, to be scheduled again later (omitted by older engines, which rejected them).
   */
  deferred?: DeferredTask[];
  /**
   * VMs left out of this call's placement because their record was refused (lib/scheduling/quarantine.ts)
   * or their source could not read them; the other VMs were scheduled on (omitted by older engines).
   */
  quarantined?: QuarantinedVm[];
  /** The blocks this call committed. */
  blocks: Block[];
  head: ChainHead;
  /** Compare-and-set attempts used (1 when nobody raced us). */
  attempts: number;
}

export type CloseOutcome =
  | { status: 'closed'; transaction: Transaction; head: ChainHead }
  /** The task is already completed, expired or rejected: nothing changed. */
  | { status: 'already-final'; taskStatus: string }
  | { status: 'unknown' };

/**
 * The port the runtimes (local server, scheduler Lambda) drive. Implemented by lib/engine/engine.ts.
 */
export interface Engine {
  schedule(tasks: Task[]): Promise<ScheduleOutcome>;
  /**
   * Records each task not yet in the ledger as `rejected` with `reason`, whatever the fleet holds;
   * tasks already recorded are duplicates. For messages that are about to be dead-lettered.
   */
  reject?(tasks: Task[], reason: string): Promise<ScheduleOutcome>;
  /**
   * Closes an assigned task as reported: `completed`, or `failed` when `outcome` says the run exited
   * non-zero or was killed (docs/ledger-format.md 2.5); the transaction carries the outcome.
   */
  complete(taskId: string, outcome?: TaskOutcome): Promise<CloseOutcome>;
  /** Closes several tasks in as few commits as the block size allows; outcomes in `taskIds` order. */
  completeMany?(taskIds: string[], outcomes?: readonly (TaskOutcome | undefined)[]): Promise<CloseOutcome[]>;
  /** Writes an `expired` transaction for each assigned task whose lease has run out. */
  expireLeases(limit?: number): Promise<Transaction[]>;
  setAlgorithm(name: string, params?: Partial<AlgorithmParams>): void;
}
