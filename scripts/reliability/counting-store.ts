import type { Block, ChainHead } from '../../lib/ledger/types';
import type {
  AppendConflict,
  AppendResult,
  Commit,
  LedgerStore,
  Reservation,
  TaskRecord,
} from '../../lib/ports/ledger-store';

export interface AppendCounts {
  /** Appends that committed. */
  committed: number;
  /** Blocks those appends wrote. */
  blocks: number;
  /** Appends refused, by the store's reason. */
  conflicts: Record<AppendConflict, number>;
}

export const noAppends = (): AppendCounts => ({
  committed: 0,
  blocks: 0,
  conflicts: { 'head-moved': 0, 'over-capacity': 0, 'task-conflict': 0 },
});

/** A LedgerStore that counts what its appends came to; everything else passes through unchanged. */
export class CountingLedgerStore implements LedgerStore {
  readonly counts = noAppends();

  /** Passed through only where the inner store has it, so the engine takes the same path it would without this wrapper. */
  readonly readState?: LedgerStore['readState'];

  constructor(private readonly inner: LedgerStore) {
    if (inner.readState) this.readState = inner.readState.bind(inner);
  }

  async append(expected: ChainHead, commit: Commit): Promise<AppendResult> {
    const result = await this.inner.append(expected, commit);
    if (result.ok) {
      this.counts.committed++;
      this.counts.blocks += commit.blocks.length;
    } else this.counts.conflicts[result.conflict]++;
    return result;
  }

  readHead(): Promise<ChainHead> {
    return this.inner.readHead();
  }
  getBlocks(from: number, limit: number): Promise<Block[]> {
    return this.inner.getBlocks(from, limit);
  }
  getBlock(height: number): Promise<Block | null> {
    return this.inner.getBlock(height);
  }
  findTransaction(transactionId: string): Promise<{ height: number; index: number } | null> {
    return this.inner.findTransaction(transactionId);
  }
  getTask(taskId: string): Promise<TaskRecord | null> {
    return this.inner.getTask(taskId);
  }
  getTasks(taskIds: readonly string[]): Promise<(TaskRecord | null)[]> {
    return this.inner.getTasks(taskIds);
  }
  listExpiredLeases(before: number, limit: number): Promise<TaskRecord[]> {
    return this.inner.listExpiredLeases(before, limit);
  }
  getReservations(vmIds?: readonly string[]): Promise<Reservation[]> {
    return this.inner.getReservations(vmIds);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export function addAppendCounts(a: AppendCounts, b: AppendCounts): AppendCounts {
  return {
    committed: a.committed + b.committed,
    blocks: a.blocks + b.blocks,
    conflicts: {
      'head-moved': a.conflicts['head-moved'] + b.conflicts['head-moved'],
      'over-capacity': a.conflicts['over-capacity'] + b.conflicts['over-capacity'],
      'task-conflict': a.conflicts['task-conflict'] + b.conflicts['task-conflict'],
    },
  };
}
