import type { Block, ChainHead, TransactionStatus } from '../ledger/types';
import type { ResourceVector } from '../model/resources';

/** What the ledger knows of a task once a transaction about it is committed. */
export interface TaskRecord {
  task_id: string;
  status: TransactionStatus;
  vm_id: string | null;
  block_height: number;
  transaction_id: string;
  requirements: ResourceVector;
  /** Epoch seconds. */
  deadline: number;
  /** Seconds. */
  duration: number;
  /** Epoch ms after which an assigned task without completion expires; null unless assigned. */
  lease_expires_at: number | null;
  /** Epoch ms of the transaction that set this status. */
  updated_at: number;
}

/** Reservations the ledger holds per VM: the sum over its assigned, unfinished tasks. */
export interface Reservation {
  vm_id: string;
  reserved: ResourceVector;
  active_tasks: number;
  /** Capacity the reservation is checked against (as recorded by the last change). */
  capacity: ResourceVector;
}

export interface ReservationChange {
  vm_id: string;
  /** Added to reserved (negative on completion/expiry). */
  delta: ResourceVector;
  active_delta: number;
  /** The VM's capacity; after the change every dimension of reserved must be <= capacity. */
  capacity: ResourceVector;
}

/**
 * A task record write. `expect: 'absent'` records a task once (assignment or rejection);
 * `expect: { status }` moves an existing record only from that status (completion, expiry).
 */
export interface TaskChange {
  record: TaskRecord;
  expect: 'absent' | { status: TransactionStatus };
}

/** Everything one append writes, all or nothing. */
export interface Commit {
  /** Consecutive blocks; the first extends the expected head. */
  blocks: Block[];
  reservations: ReservationChange[];
  tasks: TaskChange[];
}

export type AppendConflict =
  /** The head is no longer the one the writer read: another writer won the height. */
  | 'head-moved'
  /** A reservation change would take a VM over capacity in some dimension. */
  | 'over-capacity'
  /** A task record already exists (or is not in the expected status). */
  | 'task-conflict';

export type AppendResult =
  | { ok: true; head: ChainHead }
  | { ok: false; conflict: AppendConflict; detail: string };

/**
 * The ledger's storage port. A store holds the genesis block from creation on.
 *
 * Contract (tests/contract/ledger-store.case.ts): `append` succeeds only when the stored head still
 * equals `expected` (compare-and-set on height and hash) and every reservation and task condition holds;
 * then it writes the blocks, the new head, the reservation changes and the task records atomically.
 * Otherwise it writes nothing and reports the conflict. Any other failure throws.
 */
export interface LedgerStore {
  readHead(): Promise<ChainHead>;
  append(expected: ChainHead, commit: Commit): Promise<AppendResult>;
  /** Blocks with height >= from, ascending, at most `limit`. */
  getBlocks(from: number, limit: number): Promise<Block[]>;
  getBlock(height: number): Promise<Block | null>;
  /** Where a transaction is: the block height and its index in the block. */
  findTransaction(transactionId: string): Promise<{ height: number; index: number } | null>;
  getTask(taskId: string): Promise<TaskRecord | null>;
  /**
   * Batch form of getTask: one record (or null) per id, in the order given, a repeated id answered
   * each time. The engine's redelivery check reads a whole batch at once, so stores do it in as few
   * round trips as they can (one BatchGetItem per 100 ids on DynamoDB).
   */
  getTasks(taskIds: readonly string[]): Promise<(TaskRecord | null)[]>;
  /** Tasks in status 'assigned' whose lease ends at or before `before` (epoch ms), at most `limit`. */
  listExpiredLeases(before: number, limit: number): Promise<TaskRecord[]>;
  getReservations(): Promise<Reservation[]>;
  close(): Promise<void>;
}
