import {
  applyReservationChange,
  checkCommitShape,
  headAfter,
  headMoved,
  netReservationChanges,
} from '../../engine/commit';
import { addVmCounts, advance, genesisStep, type MerkleStep } from '../../engine/merkle-state';
import { genesisBlock } from '../../ledger';
import { applyTileAppend, TILE_HEIGHT, type TileKey, tileId } from '../../ledger/tiles';
import type { Block, ChainHead } from '../../ledger/types';
import type {
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

export interface MemoryLedgerStoreOptions {
  /** Tile height of the stored block-hash tree (lib/ledger/tiles.ts). @default 8 (tlog-tiles) */
  tileHeight?: number;
}

/**
 * The LedgerStore in process memory, for tests and simulations.
 *
 * `append` checks every condition and then writes without awaiting in between, so concurrent async
 * appenders in one process are serialised by the event loop: no lock is needed and none can be held
 * across a failure. Values are copied in and out so callers never alias stored state.
 */
export class MemoryLedgerStore implements LedgerStore, MerkleLedgerStore {
  private readonly blocks: Block[];
  private readonly transactions = new Map<string, { height: number; index: number }>();
  private readonly tasks = new Map<string, TaskRecord>();
  /** Ids of tasks in status 'assigned', so lease expiry does not scan every task ever recorded. */
  private readonly assigned = new Set<string>();
  private readonly reservations = new Map<string, Reservation>();
  private closed = false;
  readonly tileHeight: number;
  private treeHead: TreeHead;
  private readonly tiles = new Map<string, Uint8Array>();
  private readonly vmCounts = new Map<string, VmCounts>();
  /** Transaction total through each height (index = height). */
  private readonly totals: number[] = [];

  constructor(genesis: Block = genesisBlock(), options: MemoryLedgerStoreOptions = {}) {
    this.blocks = [structuredClone(genesis)];
    this.totals.push(genesis.transactions.length);
    this.tileHeight = options.tileHeight ?? TILE_HEIGHT;
    const step = genesisStep(genesis, this.tileHeight);
    this.treeHead = step.treeHead;
    this.writeMerkleStep(step);
  }

  async readHead(): Promise<ChainHead> {
    this.assertOpen();
    return this.head();
  }

  async append(expected: ChainHead, commit: Commit): Promise<AppendResult> {
    this.assertOpen();
    const moved = headMoved(expected, this.head());
    if (moved) return moved;
    const positions = checkCommitShape(expected, commit);
    for (const { transactionId } of positions) {
      if (this.transactions.has(transactionId)) {
        return {
          ok: false,
          conflict: 'task-conflict',
          detail: `transaction ${transactionId} already recorded`,
        };
      }
    }
    for (const { record, expect } of commit.tasks) {
      const current = this.tasks.get(record.task_id);
      if (expect === 'absent' ? current !== undefined : current?.status !== expect.status) {
        return {
          ok: false,
          conflict: 'task-conflict',
          detail: `task ${record.task_id} is ${current?.status ?? 'absent'}, expected ${expect === 'absent' ? 'absent' : expect.status}`,
        };
      }
    }
    const reservations: Reservation[] = [];
    for (const change of netReservationChanges(commit.reservations)) {
      const outcome = applyReservationChange(this.reservations.get(change.vm_id), change);
      if (!outcome.ok) return { ok: false, conflict: 'over-capacity', detail: outcome.detail };
      reservations.push(outcome.reservation);
    }

    const merkle = advance(this.treeHead, commit.blocks, this.tileHeight);

    // Every condition holds: write everything. Nothing below can fail halfway.
    this.writeMerkleStep(merkle);
    for (const block of commit.blocks) {
      this.blocks.push(structuredClone(block));
      this.totals.push(this.totals.at(-1)! + block.transactions.length);
    }
    for (const { transactionId, height, index } of positions)
      this.transactions.set(transactionId, { height, index });
    for (const reservation of reservations) this.reservations.set(reservation.vm_id, reservation);
    for (const { record } of commit.tasks) {
      this.tasks.set(record.task_id, structuredClone(record));
      if (record.status === 'assigned') this.assigned.add(record.task_id);
      else this.assigned.delete(record.task_id);
    }
    return { ok: true, head: headAfter(commit) };
  }

  async getBlocks(from: number, limit: number): Promise<Block[]> {
    this.assertOpen();
    const start = Math.max(0, Math.floor(from));
    return this.blocks.slice(start, start + Math.max(0, limit)).map((b) => structuredClone(b));
  }

  async getBlock(height: number): Promise<Block | null> {
    this.assertOpen();
    const block = this.blocks[height];
    return block ? structuredClone(block) : null;
  }

  async findTransaction(transactionId: string): Promise<{ height: number; index: number } | null> {
    this.assertOpen();
    const position = this.transactions.get(transactionId);
    return position ? { ...position } : null;
  }

  async findTransactions(
    transactionIds: readonly string[],
  ): Promise<({ height: number; index: number } | null)[]> {
    this.assertOpen();
    return transactionIds.map((id) => {
      const position = this.transactions.get(id);
      return position ? { ...position } : null;
    });
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    this.assertOpen();
    const record = this.tasks.get(taskId);
    return record ? structuredClone(record) : null;
  }

  async getTasks(taskIds: readonly string[]): Promise<(TaskRecord | null)[]> {
    this.assertOpen();
    return taskIds.map((id) => {
      const record = this.tasks.get(id);
      return record ? structuredClone(record) : null;
    });
  }

  async listExpiredLeases(before: number, limit: number): Promise<TaskRecord[]> {
    this.assertOpen();
    const expired: TaskRecord[] = [];
    for (const id of this.assigned) {
      const record = this.tasks.get(id)!;
      if (record.lease_expires_at !== null && record.lease_expires_at <= before) expired.push(record);
    }
    expired.sort((a, b) => a.lease_expires_at! - b.lease_expires_at! || compareIds(a.task_id, b.task_id));
    return expired.slice(0, Math.max(0, limit)).map((r) => structuredClone(r));
  }

  async getReservations(vmIds?: readonly string[]): Promise<Reservation[]> {
    this.assertOpen();
    const wanted = vmIds ? new Set(vmIds) : undefined;
    return [...this.reservations.values()]
      .filter((r) => !wanted || wanted.has(r.vm_id))
      .sort((a, b) => compareIds(a.vm_id, b.vm_id))
      .map((r) => structuredClone(r));
  }

  async readTreeHead(): Promise<TreeHead> {
    this.assertOpen();
    return structuredClone(this.treeHead);
  }

  async readTiles(keys: readonly TileKey[]): Promise<Map<string, Uint8Array>> {
    this.assertOpen();
    const found = new Map<string, Uint8Array>();
    for (const key of keys) {
      const tile = this.tiles.get(tileId(key));
      if (tile) found.set(tileId(key), Uint8Array.from(tile));
    }
    return found;
  }

  async readVmCounts(vmIds?: readonly string[]): Promise<VmCounts[]> {
    this.assertOpen();
    const wanted = vmIds ? new Set(vmIds) : undefined;
    return [...this.vmCounts.values()]
      .filter((c) => !wanted || wanted.has(c.vm_id))
      .sort((a, b) => compareIds(a.vm_id, b.vm_id))
      .map((c) => ({ ...c }));
  }

  async readHeightStates(heights: readonly number[]): Promise<(HeightState | null)[]> {
    this.assertOpen();
    return heights.map((height) => {
      const block = this.blocks[height];
      return block
        ? {
            height,
            block_hash: block.block_hash,
            timestamp: block.timestamp,
            transaction_total: this.totals[height]!,
          }
        : null;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The tiles are checked before any is replaced: applyTileAppend throws on a wrong offset. */
  private writeMerkleStep(step: MerkleStep): void {
    const tiles = step.tiles.map(
      (append) => [tileId(append), applyTileAppend(this.tiles.get(tileId(append)), append)] as const,
    );
    for (const [id, tile] of tiles) this.tiles.set(id, tile);
    for (const delta of step.vmCounts)
      this.vmCounts.set(delta.vm_id, addVmCounts(this.vmCounts.get(delta.vm_id), delta));
    this.treeHead = step.treeHead;
  }

  private head(): ChainHead {
    const last = this.blocks[this.blocks.length - 1]!;
    return { height: last.height, hash: last.block_hash };
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryLedgerStore is closed');
  }
}

/** Plain code-unit order, as SQLite's BINARY collation orders ASCII ids (not locale order). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
