import type Database from 'better-sqlite3';
import {
  applyReservationChange,
  checkCommitShape,
  headAfter,
  headMoved,
  netReservationChanges,
} from '../../engine/commit';
import { genesisBlock } from '../../ledger';
import { TILE_HEIGHT, type TileKey } from '../../ledger/tiles';
import type { Block, ChainHead, Transaction, TransactionStatus } from '../../ledger/types';
import type {
  AppendConflict,
  AppendResult,
  Commit,
  HeightState,
  LedgerStore,
  MerkleLedgerStore,
  Reservation,
  TaskRecord,
  TreeHead,
  VmCounts,
} from '../../ports/ledger-store';
import { headerJson, openLedgerDatabase, type SqliteOptions } from './schema';
import { SqliteMerkleState } from './sqlite-merkle-state';

export interface SqliteLedgerStoreOptions extends SqliteOptions {
  /** Defaults to lib/ledger's genesis block; a database holding another genesis is refused. */
  genesis?: Block;
  /**
   * Tile height of the stored block-hash tree (lib/ledger/tiles.ts); fixed when the database is created.
   * @default 8 (tlog-tiles)
   */
  tileHeight?: number;
}

interface BlockRow {
  block_hash: string;
  header: string;
  transactions: string;
}

interface TaskRow {
  task_id: string;
  status: TransactionStatus;
  vm_id: string | null;
  block_height: number;
  transaction_id: string;
  requirements: string;
  deadline: number;
  duration: number;
  lease_expires_at: number | null;
  updated_at: number;
  devices: string | null;
}

interface ReservationRow {
  vm_id: string;
  reserved: string;
  active_tasks: number;
  capacity: string;
  gpus: string | null;
}

/** Raised inside the write transaction to roll it back; turned into the port's conflict result. */
class Conflict extends Error {
  constructor(
    readonly conflict: AppendConflict,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * The LedgerStore on an embedded SQLite file (better-sqlite3), the local runtime's default.
 *
 * Each append is one `BEGIN IMMEDIATE` transaction: it takes the database's write lock before it
 * reads the head, so the compare-and-set holds across connections, threads and processes; a
 * conflict found halfway throws inside the transaction, which rolls everything back.
 */
export class SqliteLedgerStore implements LedgerStore, MerkleLedgerStore {
  readonly db: Database.Database;
  private readonly statements;
  private readonly appendTransaction;
  private readonly merkle: SqliteMerkleState;

  constructor(path: string, options: SqliteLedgerStoreOptions = {}) {
    const genesis = options.genesis ?? genesisBlock();
    this.db = openLedgerDatabase(path, genesis, options);
    try {
      this.merkle = new SqliteMerkleState(this.db, options.tileHeight ?? TILE_HEIGHT);
      this.merkle.open(genesis);
    } catch (error) {
      this.db.close();
      throw error;
    }
    const db = this.db;
    this.statements = {
      head: db.prepare<[], ChainHead>('SELECT height, hash FROM head WHERE id = 0'),
      setHead: db.prepare('UPDATE head SET height = ?, hash = ? WHERE id = 0'),
      block: db.prepare<[number], BlockRow>(
        'SELECT block_hash, header, transactions FROM blocks WHERE height = ?',
      ),
      blocks: db.prepare<[number, number], BlockRow>(
        'SELECT block_hash, header, transactions FROM blocks WHERE height >= ? ORDER BY height LIMIT ?',
      ),
      insertBlock: db.prepare(
        'INSERT INTO blocks (height, block_hash, header, transactions, transaction_total) VALUES (?, ?, ?, ?, ?)',
      ),
      heightState: db.prepare<
        [number],
        { block_hash: string; timestamp: string; transaction_total: number | null }
      >(
        `SELECT block_hash, json_extract(header, '$.timestamp') AS timestamp, transaction_total
         FROM blocks WHERE height = ?`,
      ),
      transaction: db.prepare<[string], { height: number; index: number }>(
        'SELECT height, idx AS "index" FROM transactions WHERE transaction_id = ?',
      ),
      // One statement for a page of ids (the incremental audit's duplicate-id check).
      transactionsOf: db.prepare<[string], { id: string; height: number; index: number }>(
        `SELECT transactions.transaction_id AS id, height, idx AS "index"
         FROM transactions WHERE transaction_id IN (SELECT value FROM json_each(?))`,
      ),
      insertTransaction: db.prepare(
        'INSERT OR IGNORE INTO transactions (transaction_id, height, idx) VALUES (?, ?, ?)',
      ),
      task: db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE task_id = ?'),
      // One statement for a whole batch: the ids travel as one JSON array parameter.
      tasks: db.prepare<[string], TaskRow>(
        'SELECT tasks.* FROM json_each(?) AS ids JOIN tasks ON tasks.task_id = ids.value',
      ),
      insertTask: db.prepare(
        `INSERT OR IGNORE INTO tasks (task_id, status, vm_id, block_height, transaction_id, requirements, deadline,
           duration, lease_expires_at, updated_at, devices)
         VALUES (@task_id, @status, @vm_id, @block_height, @transaction_id, @requirements, @deadline, @duration,
           @lease_expires_at, @updated_at, @devices)`,
      ),
      updateTask: db.prepare(
        `UPDATE tasks SET status = @status, vm_id = @vm_id, block_height = @block_height,
           transaction_id = @transaction_id, requirements = @requirements, deadline = @deadline,
           duration = @duration, lease_expires_at = @lease_expires_at, updated_at = @updated_at,
           devices = @devices
         WHERE task_id = @task_id AND status = @expected`,
      ),
      taskStatus: db.prepare<[string], { status: string }>('SELECT status FROM tasks WHERE task_id = ?'),
      expired: db.prepare<[number, number], TaskRow>(
        `SELECT * FROM tasks WHERE status = 'assigned' AND lease_expires_at <= ?
         ORDER BY lease_expires_at, task_id LIMIT ?`,
      ),
      reservation: db.prepare<[string], ReservationRow>('SELECT * FROM reservations WHERE vm_id = ?'),
      reservations: db.prepare<[], ReservationRow>('SELECT * FROM reservations ORDER BY vm_id'),
      // IN (SELECT ...) answers a repeated id once.
      reservationsOf: db.prepare<[string], ReservationRow>(
        'SELECT * FROM reservations WHERE vm_id IN (SELECT value FROM json_each(?)) ORDER BY vm_id',
      ),
      upsertReservation: db.prepare(
        `INSERT INTO reservations (vm_id, reserved, active_tasks, capacity, gpus) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (vm_id) DO UPDATE SET reserved = excluded.reserved, active_tasks = excluded.active_tasks,
           capacity = excluded.capacity, gpus = excluded.gpus`,
      ),
    };
    this.appendTransaction = db.transaction((expected: ChainHead, commit: Commit) =>
      this.write(expected, commit),
    );
  }

  async readHead(): Promise<ChainHead> {
    return { ...this.statements.head.get()! };
  }

  async append(expected: ChainHead, commit: Commit): Promise<AppendResult> {
    try {
      return this.appendTransaction.immediate(expected, commit);
    } catch (error) {
      if (error instanceof Conflict) return { ok: false, conflict: error.conflict, detail: error.detail };
      throw error;
    }
  }

  async getBlocks(from: number, limit: number): Promise<Block[]> {
    if (limit <= 0) return [];
    return this.statements.blocks.all(Math.max(0, Math.floor(from)), Math.floor(limit)).map(toBlock);
  }

  async getBlock(height: number): Promise<Block | null> {
    const row = this.statements.block.get(height);
    return row ? toBlock(row) : null;
  }

  async findTransaction(transactionId: string): Promise<{ height: number; index: number } | null> {
    return this.statements.transaction.get(transactionId) ?? null;
  }

  async findTransactions(
    transactionIds: readonly string[],
  ): Promise<({ height: number; index: number } | null)[]> {
    if (transactionIds.length === 0) return [];
    const found = new Map(
      this.statements.transactionsOf
        .all(JSON.stringify(transactionIds))
        .map((row) => [row.id, { height: row.height, index: row.index }]),
    );
    return transactionIds.map((id) => {
      const position = found.get(id);
      return position ? { ...position } : null;
    });
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    const row = this.statements.task.get(taskId);
    return row ? toTaskRecord(row) : null;
  }

  async getTasks(taskIds: readonly string[]): Promise<(TaskRecord | null)[]> {
    if (taskIds.length === 0) return [];
    const found = new Map(
      this.statements.tasks.all(JSON.stringify(taskIds)).map((row) => [row.task_id, row]),
    );
    return taskIds.map((id) => {
      const row = found.get(id);
      return row ? toTaskRecord(row) : null;
    });
  }

  async listExpiredLeases(before: number, limit: number): Promise<TaskRecord[]> {
    if (limit <= 0) return [];
    return this.statements.expired.all(before, Math.floor(limit)).map(toTaskRecord);
  }

  async getReservations(vmIds?: readonly string[]): Promise<Reservation[]> {
    const rows = vmIds
      ? this.statements.reservationsOf.all(JSON.stringify(vmIds))
      : this.statements.reservations.all();
    return rows.map(toReservation);
  }

  get tileHeight(): number {
    return this.merkle.tileHeight;
  }

  async readTreeHead(): Promise<TreeHead> {
    return this.merkle.readTreeHead();
  }

  async readTiles(keys: readonly TileKey[]): Promise<Map<string, Uint8Array>> {
    // One read transaction, so that every tile comes from the same tree.
    return this.db.transaction(() => this.merkle.readTiles(keys))();
  }

  async readVmCounts(vmIds?: readonly string[]): Promise<VmCounts[]> {
    return this.merkle.readVmCounts(vmIds);
  }

  async readHeightStates(heights: readonly number[]): Promise<(HeightState | null)[]> {
    return this.db.transaction(() =>
      heights.map((height): HeightState | null => {
        const row = Number.isSafeInteger(height) ? this.statements.heightState.get(height) : undefined;
        return row && row.transaction_total !== null
          ? {
              height,
              block_hash: row.block_hash,
              timestamp: row.timestamp,
              transaction_total: row.transaction_total,
            }
          : null;
      }),
    )();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Runs inside BEGIN IMMEDIATE: the head read here cannot move until this returns. */
  private write(expected: ChainHead, commit: Commit): AppendResult {
    const s = this.statements;
    const moved = headMoved(expected, s.head.get()!);
    if (moved) return moved;
    const positions = checkCommitShape(expected, commit);
    const tree = this.merkle.readTreeHead();
    let total = tree.counts.transactions;
    for (const block of commit.blocks) {
      total += block.transactions.length;
      s.insertBlock.run(
        block.height,
        block.block_hash,
        headerJson(block),
        JSON.stringify(block.transactions),
        total,
      );
    }
    for (const { transactionId, height, index } of positions) {
      if (s.insertTransaction.run(transactionId, height, index).changes === 0) {
        throw new Conflict('task-conflict', `transaction ${transactionId} already recorded`);
      }
    }
    for (const { record, expect } of commit.tasks) {
      const row = {
        ...record,
        requirements: JSON.stringify(record.requirements),
        devices: record.devices === undefined ? null : JSON.stringify(record.devices),
      };
      const changed =
        expect === 'absent'
          ? s.insertTask.run(row).changes
          : s.updateTask.run({ ...row, expected: expect.status }).changes;
      if (changed === 0) {
        const current = s.taskStatus.get(record.task_id)?.status ?? 'absent';
        const wanted = expect === 'absent' ? 'absent' : expect.status;
        throw new Conflict('task-conflict', `task ${record.task_id} is ${current}, expected ${wanted}`);
      }
    }
    for (const change of netReservationChanges(commit.reservations)) {
      const row = s.reservation.get(change.vm_id);
      const outcome = applyReservationChange(row ? toReservation(row) : undefined, change);
      if (!outcome.ok) throw new Conflict('over-capacity', outcome.detail);
      const r = outcome.reservation;
      s.upsertReservation.run(
        r.vm_id,
        JSON.stringify(r.reserved),
        r.active_tasks,
        JSON.stringify(r.capacity),
        r.gpus === undefined ? null : JSON.stringify(r.gpus),
      );
    }
    const next = headAfter(commit);
    s.setHead.run(next.height, next.hash);
    this.merkle.append(commit.blocks, tree);
    return { ok: true, head: next };
  }
}

function toBlock(row: BlockRow): Block {
  return {
    ...JSON.parse(row.header),
    block_hash: row.block_hash,
    transactions: JSON.parse(row.transactions) as Transaction[],
  };
}

function toTaskRecord(row: TaskRow): TaskRecord {
  const { devices, ...rest } = row;
  return {
    ...rest,
    requirements: JSON.parse(row.requirements),
    ...(devices === null ? {} : { devices: JSON.parse(devices) as number[] }),
  };
}

function toReservation(row: ReservationRow): Reservation {
  return {
    vm_id: row.vm_id,
    reserved: JSON.parse(row.reserved),
    active_tasks: row.active_tasks,
    capacity: JSON.parse(row.capacity),
    ...(row.gpus === null ? {} : { gpus: JSON.parse(row.gpus) as number[] }),
  };
}
