import type { TileKey } from '../ledger/tiles';
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
  /**
   * GPU devices the assignment took (local indexes, ascending), kept so that its closing releases
   * exactly those devices; absent when it took none.
   */
  devices?: number[];
}

/** Reservations the ledger holds per VM: the sum over its assigned, unfinished tasks. */
export interface Reservation {
  vm_id: string;
  reserved: ResourceVector;
  active_tasks: number;
  /** Capacity the reservation is checked against (as recorded by the last change). */
  capacity: ResourceVector;
  /**
   * milli-GPU reserved on each GPU device of the VM, by local index (0 where nothing is), once any
   * change has named a device; absent before. What makes the device state survive between batches:
   * the fleet source knows the devices, only the ledger knows who holds them.
   */
  gpus?: number[];
}

/** A change to one GPU device of a VM: `delta` milli-GPU (negative on release) on device `index`. */
export interface DeviceChange {
  index: number;
  delta: number;
  /** The device's milli-GPU capacity; after a growing change its reservation must be <= this. */
  capacity: number;
}

export interface ReservationChange {
  vm_id: string;
  /** Added to reserved (negative on completion/expiry). */
  delta: ResourceVector;
  active_delta: number;
  /** The VM's capacity; after the change every dimension of reserved must be <= capacity. */
  capacity: ResourceVector;
  /** The GPU devices the task takes or gives back (by index, each once), when it holds some. */
  devices?: DeviceChange[];
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
  /** A reservation change would take a VM over capacity in some dimension or on some GPU device. */
  | 'over-capacity'
  /** A task record already exists (or is not in the expected status). */
  | 'task-conflict';

export type AppendResult =
  | { ok: true; head: ChainHead }
  | {
      ok: false;
      conflict: AppendConflict;
      detail: string;
      /**
       * On 'head-moved', the stored head when the store learned it while checking (optional): a
       * writer may retry on it instead of calling readHead again.
       */
      head?: ChainHead;
    };

/** What LedgerStore.readState returns: one consistent view for one scheduling attempt. */
export interface LedgerState {
  head: ChainHead;
  /** One per id asked, in order, as getTasks. */
  tasks: (TaskRecord | null)[];
  /** As getReservations(vmIds). */
  reservations: Reservation[];
}

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
  /**
   * Optional batch form of findTransaction: one location (or null) per id, in the order given, a
   * repeated id answered each time. The incremental audit checks every new transaction's index entry
   * with it, a page at a time (one BatchGetItem per 100 ids on DynamoDB) instead of one read per id.
   */
  findTransactions?(transactionIds: readonly string[]): Promise<({ height: number; index: number } | null)[]>;
  getTask(taskId: string): Promise<TaskRecord | null>;
  /**
   * Batch form of getTask: one record (or null) per id, in the order given, a repeated id answered
   * each time. The engine's redelivery check reads a whole batch at once, so stores do it in as few
   * round trips as they can (one BatchGetItem per 100 ids on DynamoDB).
   */
  getTasks(taskIds: readonly string[]): Promise<(TaskRecord | null)[]>;
  /** Tasks in status 'assigned' whose lease ends at or before `before` (epoch ms), at most `limit`. */
  listExpiredLeases(before: number, limit: number): Promise<TaskRecord[]>;
  /**
   * Reservations by VM, sorted by vm_id. With `vmIds`, only those VMs (each once; a VM nothing was
   * ever reserved on is left out), which a store answers by key instead of reading every VM: the
   * engine only needs the VMs of the current fleet. Without, every VM the ledger holds.
   */
  getReservations(vmIds?: readonly string[]): Promise<Reservation[]>;
  /**
   * Optional: the head, the records of `taskIds` (as getTasks) and the reservations of `vmIds` (as
   * getReservations(vmIds)), in as few round trips as the store can (one TransactGetItems on
   * DynamoDB). Tasks and reservations are never older than the head returned (a store that cannot
   * read them at exactly that head reads them after it), so an engine deciding on them and appending
   * on that head needs no other read per attempt: newer state only makes the append report head-moved.
   */
  readState?(taskIds: readonly string[], vmIds: readonly string[]): Promise<LedgerState>;
  close(): Promise<void>;
}

/** Transaction counts of the whole chain, kept by the store as it appends (no replay to read them). */
export interface LedgerCounts {
  transactions: number;
  assigned: number;
  rejected: number;
  completed: number;
  failed: number;
  expired: number;
}

/** Per-VM transaction counts: decisions that placed a task on the VM, and how its tasks ended. */
export interface VmCounts {
  vm_id: string;
  assigned: number;
  completed: number;
  failed: number;
  expired: number;
}

/**
 * The chain's tip as the store keeps it with every append: the head, the block-hash tree's frontier
 * (lib/ledger/tiles.ts: one perfect-subtree head per set bit of tree_size, largest first, from which
 * blocks_root follows), the head block's timestamp and the running counts. One read, whatever the height.
 */
export interface TreeHead {
  head: ChainHead;
  /** height + 1: leaves of the block-hash tree. */
  tree_size: number;
  frontier: Uint8Array[];
  /** The head block's timestamp (digests are stamped with it). */
  head_timestamp: string;
  counts: LedgerCounts;
}

/**
 * The persistent Merkle state every store keeps (docs/ledger-format.md, "Stored Merkle tiles"): the
 * block-hash tree as tlog-tiles written in the same all-or-nothing append as the blocks, plus counters.
 * Readers use it to answer digests, proofs and summaries in O(1) or O(log n) reads; contract:
 * tests/contract/ledger-store.case.ts.
 */
export interface MerkleLedgerStore {
  /** Tile height H of the stored tiles (2^H hashes per tile); 8 (tlog-tiles) unless a test chose less. */
  readonly tileHeight: number;
  readTreeHead(): Promise<TreeHead>;
  /**
   * Tiles by key ("level/index" -> the hashes it holds now, 32 bytes each, concatenated); a tile not
   * yet written is left out. At most a few per level are asked at once.
   */
  readTiles(keys: readonly TileKey[]): Promise<Map<string, Uint8Array>>;
  /** Per-VM counts (only VMs with some transaction); with `vmIds`, only those. Sorted by vm_id. */
  readVmCounts(vmIds?: readonly string[]): Promise<VmCounts[]>;
  /**
   * Optional: readVmCounts() and getReservations() of every VM in one listing (a summary needs both),
   * where the two would otherwise list the VMs twice (DynamoDB: HEAD, the VM directory, the VM items).
   */
  readVmLedger?(): Promise<{ counts: VmCounts[]; reservations: Reservation[] }>;
  /**
   * What a digest at a past height carries besides its root (docs/ledger-format.md section 7.2): the
   * block's hash and timestamp and the chain's transaction total through it, one per height asked, in
   * order, read by key (a few items whatever the height). null for a height beyond the head, and for a
   * block written before the store kept its total (a reader then follows the chain instead).
   */
  readHeightStates(heights: readonly number[]): Promise<(HeightState | null)[]>;
}

/** One block's place in the chain, as a digest at its height needs it. */
export interface HeightState {
  height: number;
  block_hash: string;
  timestamp: string;
  /** Transactions in blocks 0..height: the digest's transaction_count at this height. */
  transaction_total: number;
}

/** Whether a store keeps the persistent Merkle state (every store in lib/adapters does). */
export function isMerkleLedgerStore(store: LedgerStore): store is LedgerStore & MerkleLedgerStore {
  const s = store as Partial<MerkleLedgerStore>;
  return (
    typeof s.readTreeHead === 'function' &&
    typeof s.readTiles === 'function' &&
    typeof s.readVmCounts === 'function' &&
    typeof s.readHeightStates === 'function'
  );
}
