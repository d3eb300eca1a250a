import { ValidationError } from '../errors';
import { buildBlocks, toTimestamp } from '../ledger';
import type { TaskOutcome, Transaction } from '../ledger/types';
import type { Dimensions, ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm, VmSnapshot } from '../model/vm';
import type { Clock } from '../ports/clock';
import type { FleetSource } from '../ports/fleet-source';
import type {
  AppendConflict,
  Commit,
  LedgerState,
  LedgerStore,
  Reservation,
  ReservationChange,
  TaskChange,
  TaskRecord,
} from '../ports/ledger-store';
import { admitFleet, Scheduler } from '../scheduling';
import { formatNumber } from '../scheduling/format';
import type { AlgorithmParams, Decision } from '../scheduling/types';
import { type BackoffOptions, backoffDelay, sleep } from './backoff';
import { AppendRetriesExhausted } from './errors';
import { withLedgerReservations } from './fleet-merge';
import { DEFAULT_SETTINGS } from './settings';
import {
  blockHeights,
  closingTransaction,
  decisionRecord,
  decisionsToTransactions,
  reservationChange,
} from './transactions';
import type { CloseOutcome, DeferredTask, Engine, EngineOptions, ScheduleOutcome } from './types';

export interface SchedulingEngineOptions extends EngineOptions {
  /** Retry pacing; `random` makes the jitter reproducible in tests. */
  backoff?: BackoffOptions;
  /** How the engine waits between attempts. Default setTimeout; tests pass an instant one. */
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic ms, to time the attempt a backoff scales with. Default performance.now. */
  monotonicMs?: () => number;
}

type CloseStatus = 'completed' | 'expired';

/** The transaction format's limit on a reason (lib/ledger/transactions.ts). */
const MAX_REASON_LENGTH = 4096;

/** How one chunk's fresh tasks are decided, against the reservations of `vmIds` read with the head. */
interface ChunkDecider {
  /** The VMs whose reservations the decision depends on; none for a rejection. */
  vmIds: readonly string[];
  decide(fresh: Task[], reservations: Reservation[], now: number): Decision[];
  /**
   * Whether the last decide left VMs out (quarantined): then a task the rest cannot hold may fit one
   * of them once it is repaired, so it waits like a task short of room instead of being rejected.
   */
  leftVmsOut?(): boolean;
}

/**
 * Places tasks and ends assignments, writing every outcome to the ledger with optimistic concurrency:
 * read the head and the state it implies, decide, append conditioned on that head; when another
 * writer got there first, read again and decide again, so a decision is always made against the
 * state it is committed on top of. Any number of engines (Lambda containers, processes) may share
 * one store.
 */
export class SchedulingEngine implements Engine {
  private readonly store: LedgerStore;
  private readonly fleet: FleetSource;
  private readonly clock: Clock;
  private readonly dimensions: Dimensions;
  private readonly scheduler: Scheduler;
  private readonly blockSize: number;
  private readonly maxAttempts: number;
  private readonly leaseGraceSeconds: number;
  private readonly maxTasksPerCommit: number;
  private readonly maxWaitMs: number;
  private readonly backoff: BackoffOptions;
  private readonly wait: (ms: number) => Promise<void>;
  private readonly monotonicMs: () => number;

  constructor(options: SchedulingEngineOptions) {
    this.store = options.store;
    this.fleet = options.fleet;
    this.clock = options.clock;
    this.dimensions = options.dimensions;
    this.scheduler = new Scheduler({
      algorithm: options.algorithm,
      ...(options.params ? { params: options.params } : {}),
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      dimensions: options.dimensions,
    });
    this.blockSize = positiveInteger('blockSize', options.blockSize ?? DEFAULT_SETTINGS.blockSize);
    this.maxAttempts = positiveInteger('maxAttempts', options.maxAttempts ?? 8);
    this.maxTasksPerCommit = positiveInteger('maxTasksPerCommit', options.maxTasksPerCommit ?? Infinity);
    this.leaseGraceSeconds = nonNegative(
      'leaseGraceSeconds',
      options.leaseGraceSeconds ?? DEFAULT_SETTINGS.leaseGraceSeconds,
    );
    this.maxWaitMs =
      nonNegative('maxWaitSeconds', options.maxWaitSeconds ?? DEFAULT_SETTINGS.maxWaitSeconds) * 1000;
    this.backoff = options.backoff ?? {};
    this.wait = options.sleep ?? sleep;
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
  }

  get algorithm(): string {
    return this.scheduler.algorithm;
  }

  get params(): AlgorithmParams {
    return this.scheduler.params;
  }

  setAlgorithm(name: string, params?: Partial<AlgorithmParams>): void {
    this.scheduler.setAlgorithm(name, params);
  }

  /**
   * Decides and commits `tasks`. A task already in the ledger (a redelivery), or repeated within the
   * batch, is reported as a duplicate and nothing is written for it. Larger batches than
   * `maxTasksPerCommit` are committed in consecutive chunks; each chunk is all or nothing.
   */
  async schedule(tasks: Task[]): Promise<ScheduleOutcome> {
    const { unique, duplicates } = splitRepeats(tasks);
    if (unique.length === 0) return this.nothingToDecide(duplicates);
    const vms = await this.fleet.listVms();
    const quarantined = new Map((this.fleet.quarantined?.() ?? []).map((q) => [q.vm_id, q]));
    let leftOut = quarantined.size > 0;
    const decide: ChunkDecider = {
      // Only the fleet's VMs can be placed on: reading these by key keeps an attempt's cost independent
      // of how many VMs (and tasks) the ledger has ever held.
      vmIds: vms.map((vm) => vm.id),
      decide: (fresh, reservations, now) => {
        const merged = withLedgerReservations(vms, reservations, this.dimensions);
        // One VM the fleet check refuses is left out, not allowed to fail the whole batch.
        const admitted = admitFleet(merged, this.dimensions, this.scheduler.params.historyWindow);
        for (const q of admitted.quarantined) quarantined.set(q.vm_id, q);
        leftOut = admitted.quarantined.length > 0 || quarantined.size > 0;
        return this.scheduler.schedule(fresh, admitted.fleet, now);
      },
      leftVmsOut: () => leftOut,
    };
    const capacityOf = new Map(vms.map((vm) => [vm.id, { capacity: vm.capacity, gpus: vm.gpus }]));
    const outcome = await this.commitInChunks(unique, duplicates, decide, capacityOf);
    return { ...outcome, quarantined: [...quarantined.values()] };
  }

  /**
   * Records each task not yet in the ledger as `rejected` with `reason`, without consulting the fleet
   * or the algorithm: for tasks that cannot be scheduled whatever the fleet holds (a message that was
   * delivered for the last time without being committed). Tasks already in the ledger are reported
   * as duplicates, with their records in `recorded`, and nothing is written for them.
   */
  async reject(tasks: Task[], reason: string): Promise<ScheduleOutcome> {
    if (reason.length === 0 || reason.length > MAX_REASON_LENGTH) {
      throw new ValidationError(
        [{ field: 'reason', message: `must be 1 to ${MAX_REASON_LENGTH} characters, got ${reason.length}` }],
        'invalid rejection',
      );
    }
    const { unique, duplicates } = splitRepeats(tasks);
    if (unique.length === 0) return this.nothingToDecide(duplicates);
    const decide: ChunkDecider = {
      vmIds: [],
      decide: (fresh) =>
        fresh.map((task) => ({
          task,
          status: 'rejected',
          vmId: null,
          score: null,
          reason,
          before: null,
          after: null,
        })),
    };
    return this.commitInChunks(unique, duplicates, decide, new Map());
  }

  /** An empty call still reports the head, the one read it needs. */
  private async nothingToDecide(duplicates: string[]): Promise<ScheduleOutcome> {
    const head = await this.store.readHead();
    return { decisions: [], duplicates, recorded: [], deferred: [], blocks: [], head, attempts: 0 };
  }

  /** The outcome's head is the last chunk's; every chunk reads its own, so none is read up front. */
  private async commitInChunks(
    unique: Task[],
    duplicates: string[],
    decide: ChunkDecider,
    capacityOf: ReadonlyMap<string, VmCapacity>,
  ): Promise<ScheduleOutcome> {
    let outcome: ScheduleOutcome | undefined;
    // Chunks of whole blocks where the limit allows: 31 tasks in blocks of 10 would end every chunk
    // with a block of one, 30 fill three.
    const limit = this.maxTasksPerCommit;
    const size = Number.isFinite(limit) && limit >= this.blockSize ? limit - (limit % this.blockSize) : limit;
    for (let start = 0; start < unique.length; start += size) {
      const chunk = await this.scheduleChunk(unique.slice(start, start + size), decide, capacityOf);
      outcome ??= { ...chunk, decisions: [], duplicates, recorded: [], deferred: [], blocks: [] };
      outcome.decisions.push(...chunk.decisions);
      outcome.duplicates.push(...chunk.duplicates);
      outcome.recorded = [...(outcome.recorded ?? []), ...(chunk.recorded ?? [])];
      outcome.deferred = [...(outcome.deferred ?? []), ...(chunk.deferred ?? [])];
      outcome.blocks.push(...chunk.blocks);
      outcome.head = chunk.head;
      outcome.attempts = Math.max(outcome.attempts, chunk.attempts);
    }
    // unique is never empty here, so the loop ran at least once.
    return outcome!;
  }

  async complete(taskId: string, outcome?: TaskOutcome): Promise<CloseOutcome> {
    const [closed] = await this.close(
      [taskId],
      'completed',
      [],
      outcome ? new Map([[taskId, outcome]]) : undefined,
    );
    return closed!;
  }

  /**
   * Completes several tasks in one commit (one block per `blockSize` of them); `outcomes[i]`, when
   * given, is how task i's run ended (completed or failed by it).
   */
  async completeMany(
    taskIds: string[],
    outcomes?: readonly (TaskOutcome | undefined)[],
  ): Promise<CloseOutcome[]> {
    const byTask = new Map<string, TaskOutcome>();
    taskIds.forEach((id, i) => {
      const outcome = outcomes?.[i];
      if (outcome && !byTask.has(id)) byTask.set(id, outcome);
    });
    return this.close(taskIds, 'completed', [], byTask);
  }

  async expireLeases(limit = 100): Promise<Transaction[]> {
    const due = await this.store.listExpiredLeases(this.clock.now(), limit);
    if (due.length === 0) return [];
    const outcomes = await this.close(
      due.map((r) => r.task_id),
      'expired',
      due.map((r) => r.vm_id ?? ''),
    );
    return outcomes.flatMap((o) => (o.status === 'closed' ? [o.transaction] : []));
  }

  private async scheduleChunk(
    tasks: Task[],
    decider: ChunkDecider,
    capacityOf: ReadonlyMap<string, VmCapacity>,
  ): Promise<ScheduleOutcome> {
    const { done, attempts } = await this.withRetries<ScheduleOutcome>(async () => {
      const {
        head,
        tasks: records,
        reservations,
      } = await this.readState(
        tasks.map((t) => t.id),
        decider.vmIds,
      );
      const fresh = tasks.filter((_, i) => records[i] === null);
      const duplicates = tasks.filter((_, i) => records[i] !== null).map((t) => t.id);
      const recorded = records.filter((r): r is TaskRecord => r !== null);
      if (fresh.length === 0)
        return { done: { decisions: [], duplicates, recorded, blocks: [], head, attempts: 0 } };

      const now = this.clock.now();
      const decided = decider.decide(fresh, reservations, now);
      const { decisions, deferred } = this.holdBack(decided, now, decider.leftVmsOut?.() ?? false);
      if (decisions.length === 0) {
        return { done: { decisions, duplicates, recorded, deferred, blocks: [], head, attempts: 0 } };
      }
      const transactions = decisionsToTransactions(decisions, this.scheduler.algorithm, now);
      const blocks = buildBlocks(head, transactions, {
        maxPerBlock: this.blockSize,
        timestamp: toTimestamp(now),
      });
      const heights = blockHeights(blocks);
      const taskChanges: TaskChange[] = [];
      const reservationChanges: ReservationChange[] = [];
      decisions.forEach((decision: Decision, i) => {
        const tx = transactions[i]!;
        taskChanges.push(
          decisionRecord(decision.task, tx, heights.get(tx.transaction_id)!, now, this.leaseGraceSeconds),
        );
        if (decision.status === 'assigned' && decision.vmId !== null) {
          const vm = capacityOf.get(decision.vmId)!;
          reservationChanges.push(
            reservationChange(
              decision.vmId,
              decision.task.requirements,
              vm.capacity,
              1,
              tx.devices,
              (g) => vm.gpus?.[g]?.milli ?? 0,
            ),
          );
        }
      });
      const commit: Commit = { blocks, reservations: reservationChanges, tasks: taskChanges };
      const result = await this.store.append(head, commit);
      if (!result.ok) return { conflict: result };
      return { done: { decisions, duplicates, recorded, deferred, blocks, head: result.head, attempts: 0 } };
    });
    return { ...done, attempts };
  }

  /**
   * Takes out the rejections that waiting could turn into placements (kind `capacity`) for tasks
   * still within their wait; past it, such a rejection is recorded, saying how long it waited.
   */
  private holdBack(
    all: Decision[],
    now: number,
    vmsLeftOut = false,
  ): { decisions: Decision[]; deferred: DeferredTask[] } {
    const decisions: Decision[] = [];
    const deferred: DeferredTask[] = [];
    // With VMs quarantined, "fits no VM" or "no VM matches" may only mean "no healthy one".
    const waitable = (kind: Decision['rejection']) =>
      kind === 'capacity' || (vmsLeftOut && (kind === 'never-fits' || kind === 'constraints'));
    for (const d of all) {
      if (d.status !== 'rejected' || !waitable(d.rejection)) decisions.push(d);
      else if (now - d.task.submittedAt < this.maxWaitMs) deferred.push({ task: d.task, reason: d.reason });
      else {
        const reason = `no capacity within ${formatNumber(this.maxWaitMs / 1000)} s: ${d.reason}`;
        decisions.push({ ...d, reason: reason.slice(0, MAX_REASON_LENGTH) });
      }
    }
    return { decisions, deferred };
  }

  /** Closes tasks in chunks of maxTasksPerCommit, each chunk one all-or-nothing commit. */
  private async close(
    taskIds: string[],
    status: CloseStatus,
    vmHint: readonly string[] = [],
    reported?: ReadonlyMap<string, TaskOutcome>,
  ): Promise<CloseOutcome[]> {
    const unique = [...new Set(taskIds)];
    const byId = new Map<string, CloseOutcome>();
    for (let start = 0; start < unique.length; start += this.maxTasksPerCommit) {
      const chunk = await this.closeChunk(
        unique.slice(start, start + this.maxTasksPerCommit),
        status,
        vmHint,
        reported,
      );
      for (const [id, outcome] of chunk) byId.set(id, outcome);
    }
    return taskIds.map((id) => byId.get(id)!);
  }

  /**
   * `vmHint`: VMs the tasks are likely on (the lease records expireLeases already holds). The VMs of
   * the open records are read with the head when hinted, else right after: an assigned record's VM
   * never changes, so a retry reads them in the same round trip as the head.
   */
  private async closeChunk(
    unique: string[],
    status: CloseStatus,
    vmHint: readonly string[],
    reported?: ReadonlyMap<string, TaskOutcome>,
  ): Promise<Map<string, CloseOutcome>> {
    const known = new Set(vmHint.filter((id) => id !== ''));
    const { done } = await this.withRetries<Map<string, CloseOutcome>>(async () => {
      const state = await this.readState(unique, [...known].sort());
      const { head, tasks: records } = state;
      const outcomes = new Map<string, CloseOutcome>();
      const open: TaskRecord[] = [];
      records.forEach((record, i) => {
        if (record === null) outcomes.set(unique[i]!, { status: 'unknown' });
        else if (record.status !== 'assigned') {
          outcomes.set(record.task_id, { status: 'already-final', taskStatus: record.status });
        } else open.push(record);
      });
      if (open.length === 0) return { done: outcomes };

      const now = this.clock.now();
      const openVms = [...new Set(open.map((r) => r.vm_id!))].sort();
      const missing = openVms.filter((id) => !known.has(id));
      for (const id of missing) known.add(id);
      // Read after the head, so at least as new as it; anything newer makes the append report head-moved.
      const [extra, vms] = await Promise.all([
        missing.length > 0 ? this.store.getReservations(missing) : Promise.resolve([]),
        this.fleet.listVms(),
      ]);
      const wanted = new Set(openVms);
      const reservations = [...state.reservations.filter((r) => wanted.has(r.vm_id)), ...extra];
      const vmState = vmSnapshots(reservations, vms);
      // Tasks closing on one VM in the same commit chain their snapshots: each starts where the last ended.
      const transactions = open.map((r) => {
        const tx = closingTransaction(
          r,
          status,
          this.scheduler.algorithm,
          now,
          vmState.get(r.vm_id!) ?? null,
          reported?.get(r.task_id),
        );
        if (tx.vm_state_after) vmState.set(r.vm_id!, tx.vm_state_after);
        return tx;
      });
      const blocks = buildBlocks(head, transactions, {
        maxPerBlock: this.blockSize,
        timestamp: toTimestamp(now),
      });
      const heights = blockHeights(blocks);
      const capacityOf = new Map(reservations.map((r) => [r.vm_id, r.capacity]));
      const commit: Commit = {
        blocks,
        reservations: open.map((r) =>
          reservationChange(r.vm_id!, r.requirements, capacityOf.get(r.vm_id!) ?? {}, -1, r.devices),
        ),
        tasks: open.map((r, i) => ({
          record: {
            ...r,
            status: transactions[i]!.status,
            block_height: heights.get(transactions[i]!.transaction_id)!,
            transaction_id: transactions[i]!.transaction_id,
            lease_expires_at: null,
            updated_at: now,
          },
          expect: { status: 'assigned' },
        })),
      };
      const result = await this.store.append(head, commit);
      if (!result.ok) return { conflict: result };
      open.forEach((r, i) => {
        outcomes.set(r.task_id, { status: 'closed', transaction: transactions[i]!, head: result.head });
      });
      return { done: outcomes };
    });
    return done;
  }

  /**
   * The head with the task records and VM reservations an attempt decides on. One round trip when the
   * store offers readState; otherwise the head first and the rest after it, so the rest reflects at
   * least that head (newer state only makes the append on it report head-moved, never succeed).
   */
  private async readState(taskIds: readonly string[], vmIds: readonly string[]): Promise<LedgerState> {
    if (this.store.readState) return this.store.readState(taskIds, vmIds);
    const head = await this.store.readHead();
    const [tasks, reservations] = await Promise.all([
      this.store.getTasks(taskIds),
      vmIds.length > 0 ? this.store.getReservations(vmIds) : Promise.resolve([]),
    ]);
    return { head, tasks, reservations };
  }

  /**
   * Runs `attempt` until it commits or reports no conflict, backing off between tries; the attempt
   * re-reads everything it depends on. Gives up with AppendRetriesExhausted after maxAttempts.
   */
  private async withRetries<T>(
    attempt: () => Promise<{ done: T } | { conflict: { conflict: AppendConflict; detail: string } }>,
  ): Promise<{ done: T; attempts: number }> {
    let last: { conflict: AppendConflict; detail: string } | undefined;
    for (let n = 1; n <= this.maxAttempts; n++) {
      const started = this.monotonicMs();
      const result = await attempt();
      if ('done' in result) return { done: result.done, attempts: n };
      last = result.conflict;
      const took = this.monotonicMs() - started;
      if (n < this.maxAttempts) await this.wait(backoffDelay(n, this.backoff, took));
    }
    throw new AppendRetriesExhausted(this.maxAttempts, last!.conflict, last!.detail);
  }
}

/**
 * The VMs as the ledger holds them now (reserved, active tasks, per-device GPU use) with the fleet's
 * latest measured usage, for the snapshots closing transactions record. A VM that left the fleet
 * gets none. `gpus` covers the devices the fleet lists (and any the ledger holds beyond them).
 */
function vmSnapshots(reservations: readonly Reservation[], vms: readonly Vm[]): Map<string, VmSnapshot> {
  const byId = new Map(vms.map((vm) => [vm.id, vm]));
  const state = new Map<string, VmSnapshot>();
  for (const r of reservations) {
    const vm = byId.get(r.vm_id);
    if (!vm) continue;
    const snapshot: VmSnapshot = {
      reserved: { ...r.reserved },
      usage: { ...vm.usage },
      active_tasks: r.active_tasks,
    };
    if (vm.gpus !== undefined || r.gpus !== undefined) {
      const count = Math.max(vm.gpus?.length ?? 0, r.gpus?.length ?? 0);
      if (count > 0) snapshot.gpus = Array.from({ length: count }, (_, g) => r.gpus?.[g] ?? 0);
    }
    state.set(r.vm_id, snapshot);
  }
  return state;
}

/** What an assignment's reservation is checked against: the VM's capacity and its GPU devices. */
interface VmCapacity {
  capacity: ResourceVector;
  gpus: Vm['gpus'];
}

/** Tasks repeated within the call are duplicates from the start; the rest are decided once each. */
function splitRepeats(tasks: Task[]): { unique: Task[]; duplicates: string[] } {
  const seen = new Set<string>();
  const unique: Task[] = [];
  const duplicates: string[] = [];
  for (const task of tasks) {
    if (seen.has(task.id)) duplicates.push(task.id);
    else {
      seen.add(task.id);
      unique.push(task);
    }
  }
  return { unique, duplicates };
}

function nonNegative(name: string, value: number): number {
  if (!(value >= 0 && Number.isFinite(value))) {
    throw new ValidationError(
      [{ field: name, message: `must be a finite number >= 0, got ${value}` }],
      'invalid engine options',
    );
  }
  return value;
}

function positiveInteger(name: string, value: number): number {
  if (!(value === Infinity || (Number.isInteger(value) && value >= 1))) {
    throw new ValidationError(
      [{ field: name, message: `must be an integer >= 1, got ${value}` }],
      'invalid engine options',
    );
  }
  return value;
}
