import { ValidationError } from '../errors';
import {
  blockLeafHash,
  DenseMerkleTree,
  DigestBuilder,
  digestConsistencyProof,
  toHex,
  transactionProof,
} from '../ledger';
import type { DigestConsistency } from '../ledger/digest';
import { tiledDigestConsistencyProof, tiledTransactionProof } from '../ledger/tiled-proofs';
import { FullTileCache, frontierRoot, TiledMerkleTree } from '../ledger/tiles';
import type { Block, ChainHead, Digest, Transaction, TransactionProof } from '../ledger/types';
import {
  type HeightState,
  isMerkleLedgerStore,
  type LedgerStore,
  type MerkleLedgerStore,
  type Reservation,
  type TaskRecord,
  type TreeHead,
} from '../ports/ledger-store';
import { utilisation } from '../scheduling';

export interface VmLedgerStats {
  vm_id: string;
  /** Decisions that placed a task on this VM. */
  assignments: number;
  completed: number;
  /** Closings whose run exited non-zero or was killed by a signal. */
  failed: number;
  expired: number;
  /** Assigned tasks not yet closed, as the ledger's reservation holds them. */
  active_tasks: number;
  /** completed / (completed + failed + expired): how many of the VM's finished assignments ran to success; null before any finished. */
  success_rate: number | null;
  /** Mean over the VM's dimensions of reserved / capacity, from the ledger's reservation. */
  utilisation: number;
}

export interface LedgerSummary {
  height: number;
  head_hash: string;
  transaction_count: number;
  assignments: number;
  rejections: number;
  completed: number;
  failed: number;
  expired: number;
  /** assignments / (assignments + rejections); null before any decision. */
  success_rate: number | null;
  vms: VmLedgerStats[];
}

export interface TransactionLookup {
  transaction: Transaction;
  height: number;
  index: number;
  /** Inclusion of the transaction in its block and of the block in `proof.digest`. */
  proof: TransactionProof;
}

/** What the ledger says about one task: its record and the reason its transaction gives. */
export interface TaskStatus {
  task_id: string;
  status: TaskRecord['status'];
  vm_id: string | null;
  block_height: number;
  transaction_id: string;
  reason: string | null;
}

export interface LedgerReaderOptions {
  /** Blocks read per store call while catching up. Default 100. */
  pageSize?: number;
}

interface Counts {
  assignments: number;
  completed: number;
  failed: number;
  expired: number;
}

/**
 * Read-side views of the ledger for both runtimes (the local server's and the API Lambda's
 * GET /ledger, /ledger/digest, /ledger/transactions/{id}).
 *
 * On a store that keeps the persistent Merkle state (every store in lib/adapters: MerkleLedgerStore),
 * the reader holds nothing: a digest or summary is one read of the stored tree head (plus the VM
 * records for a summary), a transaction proof a few reads of tiles, whatever the height, so a cold
 * start costs what a warm one does. On any other store it follows the chain incrementally: each
 * call reads only the blocks committed since the last one (or is handed them with `add` by the
 * writer that committed them), keeping the counters, the block hashes (for proofs; 32 bytes of
 * hash per block is the price of never rescanning the chain) and an O(log n) digest builder.
 * One reader per process; it is safe under concurrent calls (catch-ups are serialised).
 *
 * Digests are stamped with the head block's timestamp, not the reader's clock, so that the same
 * chain always yields the same digest wherever it is computed (server, CLI, auditor).
 */
export class LedgerReader {
  private readonly pageSize: number;
  private readonly hashes: string[] = [];
  /** Followed chain only (consistencyBetween): the block-hash tree and the transaction total at each height. */
  private readonly blockTree = new DenseMerkleTree();
  private readonly transactionTotals: number[] = [];
  private headTimestamp = '';
  private readonly digestBuilder = new DigestBuilder();
  private readonly perVm = new Map<string, Counts>();
  private totals = { transactions: 0, assignments: 0, rejections: 0, completed: 0, failed: 0, expired: 0 };
  private pending: Promise<ChainHead> | null = null;
  private readonly merkle: (LedgerStore & MerkleLedgerStore) | null;
  /** Merkle path: the newest head seen (read or handed over with `add`). */
  private knownHeight = -1;
  /** Merkle path: full tiles (which never change) already read, with their interior hashes. */
  private readonly fullTiles = new FullTileCache();

  constructor(
    private readonly store: LedgerStore,
    options: LedgerReaderOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 100;
    this.merkle = isMerkleLedgerStore(store) ? store : null;
  }

  /** Height of the newest block this reader has seen (-1 before the first read). */
  get height(): number {
    return this.merkle ? this.knownHeight : this.hashes.length - 1;
  }

  /** The store keeps the Merkle state, so this reader reads it instead of following the chain. */
  get usesStoredTree(): boolean {
    return this.merkle !== null;
  }

  /** Hex block hashes of heights 0..height, for proofs. */
  get blockHashes(): readonly string[] {
    return this.hashes;
  }

  /**
   * Hands the reader a block its caller has just committed, sparing a store read. Only the next
   * block is taken; any other is ignored (a later catch-up reads the gap), so a block counts exactly
   * once whatever order commits are reported in.
   */
  add(block: Block): void {
    if (this.merkle) {
      this.knownHeight = Math.max(this.knownHeight, block.height);
      return;
    }
    if (block.height === this.hashes.length) this.apply(block);
  }

  /** Reads the blocks committed since the last call (on a Merkle store: only the head). */
  async refresh(): Promise<ChainHead> {
    if (this.merkle) return this.see(await this.store.readHead());
    return this.catchUp();
  }

  async summary(): Promise<LedgerSummary> {
    let head: ChainHead;
    let perVm: Map<string, Counts>;
    let t: typeof this.totals;
    let reservations: Reservation[];
    if (this.merkle) {
      const tree = await this.treeHead();
      head = tree.head;
      const c = tree.counts;
      t = {
        transactions: c.transactions,
        assignments: c.assigned,
        rejections: c.rejected,
        completed: c.completed,
        failed: c.failed,
        expired: c.expired,
      };
      const listed = this.merkle.readVmLedger
        ? await this.merkle.readVmLedger()
        : { counts: await this.merkle.readVmCounts(), reservations: await this.store.getReservations() };
      perVm = new Map(
        listed.counts.map((v) => [
          v.vm_id,
          { assignments: v.assigned, completed: v.completed, failed: v.failed, expired: v.expired },
        ]),
      );
      reservations = listed.reservations;
    } else {
      head = await this.catchUp();
      perVm = this.perVm;
      t = this.totals;
      reservations = await this.store.getReservations();
    }
    const vmIds = new Set([...perVm.keys(), ...reservations.map((r) => r.vm_id)]);
    const byVm = new Map(reservations.map((r) => [r.vm_id, r]));
    const vms = [...vmIds].sort().map((vmId): VmLedgerStats => {
      const counts = perVm.get(vmId) ?? { assignments: 0, completed: 0, failed: 0, expired: 0 };
      const r = byVm.get(vmId);
      const finished = counts.completed + counts.failed + counts.expired;
      return {
        vm_id: vmId,
        ...counts,
        active_tasks: r?.active_tasks ?? 0,
        success_rate: finished === 0 ? null : counts.completed / finished,
        utilisation: r
          ? utilisation(
              {
                id: vmId,
                capacity: r.capacity,
                reserved: r.reserved,
                usage: {},
                history: [],
                activeTasks: r.active_tasks,
                labels: {},
                state: 'active',
              },
              Object.keys(r.capacity),
            )
          : 0,
      };
    });
    const decided = t.assignments + t.rejections;
    return {
      height: head.height,
      head_hash: head.hash,
      transaction_count: t.transactions,
      assignments: t.assignments,
      rejections: t.rejections,
      completed: t.completed,
      failed: t.failed,
      expired: t.expired,
      success_rate: decided === 0 ? null : t.assignments / decided,
      vms,
    };
  }

  /** The digest of the chain as it is now (an auditor keeps it to detect a later rollback). */
  async digest(): Promise<Digest> {
    if (this.merkle) return digestOf(await this.treeHead());
    await this.catchUp();
    return this.digestBuilder.digest(this.headTimestamp);
  }

  /**
   * RFC 9162 PROOF that the current digest extends the one of `oldSize` blocks (tree size), with both
   * digests' roots. O(log n) tile reads on a Merkle store; O(n) hashing otherwise.
   */
  async consistency(oldSize: number): Promise<{ digest: Digest; old_blocks_root: string; proof: string[] }> {
    const digest = await this.digest();
    if (!Number.isSafeInteger(oldSize) || oldSize < 1 || oldSize > digest.tree_size) {
      throw new RangeError(`old tree size ${oldSize} out of range 1..${digest.tree_size}`);
    }
    const tree = this.merkle ? this.tiledTree(digest.tree_size) : null;
    if (tree) {
      const oldRoot = toHex(await tree.root(oldSize));
      const proof = await tiledDigestConsistencyProof(
        tree,
        { ...digest, tree_size: oldSize, blocks_root: oldRoot },
        digest,
      );
      return { digest, old_blocks_root: oldRoot, proof };
    }
    const dense = new DenseMerkleTree();
    for (const h of this.hashes.slice(0, digest.tree_size)) dense.append(blockLeafHash(h));
    return {
      digest,
      old_blocks_root: toHex(dense.root(oldSize)),
      proof: digestConsistencyProof(dense, oldSize),
    };
  }

  /** The task's latest status as recorded, with its transaction's reason; null if the ledger has none. */
  async task(taskId: string): Promise<TaskStatus | null> {
    const record = await this.store.getTask(taskId);
    if (!record) return null;
    const block = await this.store.getBlock(record.block_height);
    const tx = block?.transactions.find((t) => t.transaction_id === record.transaction_id);
    return {
      task_id: record.task_id,
      status: record.status,
      vm_id: record.vm_id,
      block_height: record.block_height,
      transaction_id: record.transaction_id,
      reason: tx?.reason ?? null,
    };
  }

  /** A committed transaction, where it is, and its proof against the current digest; null if unknown. */
  async transaction(transactionId: string): Promise<TransactionLookup | null> {
    const position = await this.store.findTransaction(transactionId);
    if (!position) return null;
    const block = await this.store.getBlock(position.height);
    const transaction = block?.transactions[position.index];
    if (!block || transaction?.transaction_id !== transactionId) {
      throw new Error(
        `ledger index points ${transactionId} at ${position.height}/${position.index}, which is not it`,
      );
    }
    if (this.merkle) {
      const tree = await this.treeHead();
      const digest = digestOf(tree);
      const tiles = this.tiledTree(tree.tree_size);
      const proof = await tiledTransactionProof(block, position.index, tiles, digest);
      return { transaction, height: position.height, index: position.index, proof };
    }
    await this.catchUp();
    const digest = this.digestBuilder.digest(this.headTimestamp);
    const proof = transactionProof(block, position.index, this.hashes.slice(0, digest.tree_size), digest);
    return { transaction, height: position.height, index: position.index, proof };
  }

  /** Every block from `from` on, ascending, paged from the store (for export and verification). */
  async *blocks(from = 0): AsyncIterable<Block> {
    const head = await this.store.readHead();
    for (let next = from; next <= head.height; ) {
      const page = await this.store.getBlocks(next, Math.min(this.pageSize, head.height - next + 1));
      if (page.length === 0) return;
      yield* page;
      next = page[page.length - 1]!.height + 1;
    }
  }

  /**
   * The digests at tree sizes `from` and `to` (default: the current size) and the RFC 9162 consistency
   * proof between them (GET /ledger/consistency, docs/ledger-format.md section 7.2). Throws
   * ValidationError naming the field unless 1 <= from <= to <= the current tree size.
   *
   * On a Merkle store: the tree head, the two blocks' stored states (hash, timestamp, transaction total)
   * and O(log n) tiles, whatever the height. A store that lacks a block's total (written before stores
   * kept it), and any other store, answers from the followed chain (in memory, 64 bytes a block).
   */
  async consistencyBetween(from: number, to?: number): Promise<DigestConsistency> {
    if (this.merkle) {
      const tree = await this.treeHead();
      const end = to ?? tree.tree_size;
      checkRange(from, end, tree.tree_size);
      const [older, newer] = await this.merkle.readHeightStates([from - 1, end - 1]);
      if (older && newer) {
        const tiles = this.tiledTree(tree.tree_size);
        const digestAt = async (s: HeightState): Promise<Digest> => ({
          height: s.height,
          head_hash: s.block_hash,
          tree_size: s.height + 1,
          blocks_root: toHex(await tiles.root(s.height + 1)),
          transaction_count: s.transaction_total,
          timestamp: s.timestamp,
        });
        const fromDigest = await digestAt(older);
        const toDigest = await digestAt(newer);
        return {
          from: fromDigest,
          to: toDigest,
          proof: await tiledDigestConsistencyProof(tiles, fromDigest, toDigest),
        };
      }
    }
    const head = await this.catchUp();
    const size = Math.min(head.height + 1, this.hashes.length);
    const end = to ?? size;
    checkRange(from, end, size);
    return {
      from: await this.digestAt(from),
      to: await this.digestAt(end),
      proof: this.blockTree.consistencyProof(from, end).map(toHex),
    };
  }

  /** The digest of the followed chain at tree size `size`, stamped with that head's time. */
  private async digestAt(size: number): Promise<Digest> {
    const height = size - 1;
    const block = height === this.hashes.length - 1 ? null : await this.store.getBlock(height);
    return {
      height,
      head_hash: this.hashes[height]!,
      tree_size: size,
      blocks_root: toHex(this.blockTree.root(size)),
      transaction_count: this.transactionTotals[height]!,
      timestamp: block?.timestamp ?? this.headTimestamp,
    };
  }

  private tiledTree(size: number): TiledMerkleTree {
    const store = this.merkle!;
    return new TiledMerkleTree((keys) => store.readTiles(keys), size, store.tileHeight, this.fullTiles);
  }

  private async treeHead(): Promise<TreeHead> {
    const tree = await this.merkle!.readTreeHead();
    this.see(tree.head);
    return tree;
  }

  private see(head: ChainHead): ChainHead {
    this.knownHeight = Math.max(this.knownHeight, head.height);
    return head;
  }

  private catchUp(): Promise<ChainHead> {
    // Single flight: concurrent callers share one catch-up instead of applying blocks twice.
    this.pending ??= this.readNewBlocks().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  private async readNewBlocks(): Promise<ChainHead> {
    const head = await this.store.readHead();
    while (this.hashes.length <= head.height) {
      const before = this.hashes.length;
      const page = await this.store.getBlocks(before, this.pageSize);
      if (page.length === 0) break;
      // A block handed over with `add` while this page was being read is already applied. On a
      // Merkle store `add` keeps no chain state, so the followed chain (consistencyBetween) applies here.
      for (const block of page) {
        if (this.merkle) this.knownHeight = Math.max(this.knownHeight, block.height);
        if (block.height === this.hashes.length) this.apply(block);
      }
      if (this.hashes.length === before) {
        throw new Error(
          `the store's blocks from height ${before} do not extend the chain this reader has followed`,
        );
      }
    }
    const last = this.hashes.length - 1;
    return last > head.height ? { height: last, hash: this.hashes[last]! } : head;
  }

  private apply(block: Block): void {
    const expectedPrevious = this.hashes.at(-1);
    if (
      block.height !== this.hashes.length ||
      (expectedPrevious && block.previous_hash !== expectedPrevious)
    ) {
      throw new Error(`block ${block.height} does not extend the chain this reader has followed`);
    }
    this.digestBuilder.append(block);
    this.hashes.push(block.block_hash);
    this.blockTree.append(blockLeafHash(block.block_hash));
    this.transactionTotals.push((this.transactionTotals.at(-1) ?? 0) + block.transactions.length);
    this.headTimestamp = block.timestamp;
    for (const tx of block.transactions) {
      this.totals.transactions++;
      if (tx.status === 'rejected') {
        this.totals.rejections++;
        continue;
      }
      const counts = this.vmCounts(tx.vm_id ?? '');
      if (tx.status === 'assigned') {
        this.totals.assignments++;
        counts.assignments++;
      } else if (tx.status === 'completed') {
        this.totals.completed++;
        counts.completed++;
      } else if (tx.status === 'failed') {
        this.totals.failed++;
        counts.failed++;
      } else {
        this.totals.expired++;
        counts.expired++;
      }
    }
  }

  private vmCounts(vmId: string): Counts {
    let counts = this.perVm.get(vmId);
    if (!counts) {
      counts = { assignments: 0, completed: 0, failed: 0, expired: 0 };
      this.perVm.set(vmId, counts);
    }
    return counts;
  }
}

/** Throws ValidationError naming the field unless 1 <= from <= end <= size. */
function checkRange(from: number, end: number, size: number): void {
  const issues = [];
  if (!Number.isSafeInteger(from) || from < 1 || from > end) {
    issues.push({ field: 'from', message: `must be 1..${end} (a tree size: height + 1)` });
  }
  if (!Number.isSafeInteger(end) || end > size) {
    issues.push({ field: 'to', message: `must be at most the current tree size ${size}` });
  }
  if (issues.length > 0) throw new ValidationError(issues, 'invalid consistency range');
}

/** The digest of a stored tree head: exactly what DigestBuilder gives after the same blocks. */
function digestOf(tree: TreeHead): Digest {
  return {
    height: tree.head.height,
    head_hash: tree.head.hash,
    tree_size: tree.tree_size,
    blocks_root: toHex(frontierRoot({ size: tree.tree_size, roots: tree.frontier })),
    transaction_count: tree.counts.transactions,
    timestamp: tree.head_timestamp,
  };
}
