import type Database from 'better-sqlite3';
import { addVmCounts, advance, genesisStep, type MerkleStep } from '../../engine/merkle-state';
import { HASH_SIZE } from '../../ledger/hash';
import { decodeFrontier, encodeFrontier, type TileKey, tileId } from '../../ledger/tiles';
import type { Block, Transaction } from '../../ledger/types';
import type { TreeHead, VmCounts } from '../../ports/ledger-store';

interface TreeHeadRow {
  tile_height: number;
  height: number;
  hash: string;
  tree_size: number;
  frontier: Buffer;
  head_timestamp: string;
  transactions: number;
  assigned: number;
  rejected: number;
  completed: number;
  failed: number;
  expired: number;
}

/** Blocks read per page when the state is rebuilt from an existing chain. */
const BACKFILL_PAGE = 2000;

/**
 * The SQLite side of the persistent Merkle state (tables merkle_tiles, tree_head, vm_counts of schema
 * migration 3): read, and written inside the append's transaction so that blocks and tree never disagree.
 */
export class SqliteMerkleState {
  private readonly statements;

  constructor(
    private readonly db: Database.Database,
    readonly tileHeight: number,
  ) {
    this.statements = {
      treeHead: db.prepare<[], TreeHeadRow>('SELECT * FROM tree_head WHERE id = 0'),
      putTreeHead: db.prepare(
        `INSERT INTO tree_head (id, tile_height, height, hash, tree_size, frontier, head_timestamp, transactions,
           assigned, rejected, completed, failed, expired)
         VALUES (0, @tile_height, @height, @hash, @tree_size, @frontier, @head_timestamp, @transactions, @assigned,
           @rejected, @completed, @failed, @expired)
         ON CONFLICT (id) DO UPDATE SET height = excluded.height, hash = excluded.hash,
           tree_size = excluded.tree_size, frontier = excluded.frontier, head_timestamp = excluded.head_timestamp,
           transactions = excluded.transactions, assigned = excluded.assigned, rejected = excluded.rejected,
           completed = excluded.completed, failed = excluded.failed, expired = excluded.expired`,
      ),
      tile: db.prepare<[number, number], { hashes: Buffer }>(
        'SELECT hashes FROM merkle_tiles WHERE level = ? AND idx = ?',
      ),
      putTile: db.prepare(
        `INSERT INTO merkle_tiles (level, idx, hashes) VALUES (?, ?, ?)
         ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes`,
      ),
      vmCount: db.prepare<[string], VmCounts>('SELECT * FROM vm_counts WHERE vm_id = ?'),
      vmCounts: db.prepare<[], VmCounts>('SELECT * FROM vm_counts ORDER BY vm_id'),
      vmCountsOf: db.prepare<[string], VmCounts>(
        'SELECT * FROM vm_counts WHERE vm_id IN (SELECT value FROM json_each(?)) ORDER BY vm_id',
      ),
      putVmCount: db.prepare(
        `INSERT INTO vm_counts (vm_id, assigned, completed, failed, expired)
         VALUES (@vm_id, @assigned, @completed, @failed, @expired)
         ON CONFLICT (vm_id) DO UPDATE SET assigned = excluded.assigned, completed = excluded.completed,
           failed = excluded.failed, expired = excluded.expired`,
      ),
      blocks: db.prepare<[number, number], { block_hash: string; header: string; transactions: string }>(
        'SELECT block_hash, header, transactions FROM blocks WHERE height >= ? ORDER BY height LIMIT ?',
      ),
    };
  }

  /**
   * Creates the state of a chain written before it existed (one pass over the blocks, once), and refuses
   * a database whose tiles were written with another tile height. Runs under the write lock.
   */
  open(genesis: Block): void {
    this.db
      .transaction(() => {
        const row = this.statements.treeHead.get();
        if (row) {
          if (row.tile_height !== this.tileHeight) {
            throw new Error(
              `ledger database keeps Merkle tiles of height ${row.tile_height}, not ${this.tileHeight}`,
            );
          }
          return;
        }
        let step: MerkleStep = genesisStep(genesis, this.tileHeight);
        let from = 1;
        this.writeStep(step);
        for (;;) {
          const page = this.statements.blocks.all(from, BACKFILL_PAGE);
          if (page.length === 0) break;
          const blocks: Block[] = page.map((r) => ({
            ...JSON.parse(r.header),
            block_hash: r.block_hash,
            transactions: JSON.parse(r.transactions) as Transaction[],
          }));
          step = advance(step.treeHead, blocks, this.tileHeight);
          this.writeStep(step);
          from += page.length;
        }
      })
      .immediate();
  }

  readTreeHead(): TreeHead {
    const row = this.statements.treeHead.get();
    if (!row) throw new Error('ledger database has no tree_head row');
    return {
      head: { height: row.height, hash: row.hash },
      tree_size: row.tree_size,
      frontier: decodeFrontier(row.tree_size, new Uint8Array(row.frontier)).roots,
      head_timestamp: row.head_timestamp,
      counts: {
        transactions: row.transactions,
        assigned: row.assigned,
        rejected: row.rejected,
        completed: row.completed,
        failed: row.failed,
        expired: row.expired,
      },
    };
  }

  readTiles(keys: readonly TileKey[]): Map<string, Uint8Array> {
    const found = new Map<string, Uint8Array>();
    for (const key of keys) {
      const row = this.statements.tile.get(key.level, key.index);
      if (row) found.set(tileId(key), new Uint8Array(row.hashes));
    }
    return found;
  }

  readVmCounts(vmIds?: readonly string[]): VmCounts[] {
    const rows = vmIds
      ? this.statements.vmCountsOf.all(JSON.stringify(vmIds))
      : this.statements.vmCounts.all();
    return rows.map((r) => ({
      vm_id: r.vm_id,
      assigned: r.assigned,
      completed: r.completed,
      failed: r.failed,
      expired: r.expired,
    }));
  }

  /** Inside the append's transaction, after its blocks are inserted. */
  append(blocks: readonly Block[], previous: TreeHead = this.readTreeHead()): void {
    this.writeStep(advance(previous, blocks, this.tileHeight));
  }

  private writeStep(step: MerkleStep): void {
    const s = this.statements;
    for (const append of step.tiles) {
      const current = s.tile.get(append.level, append.index)?.hashes;
      const held = current ? current.length / HASH_SIZE : 0;
      // A tile is only ever extended at its end; anything else means the tables disagree with the chain.
      if (held !== append.offset) {
        throw new Error(
          `Merkle tile ${tileId(append)} holds ${held} hashes, the append expects ${append.offset}`,
        );
      }
      s.putTile.run(
        append.level,
        append.index,
        Buffer.concat([current ?? Buffer.alloc(0), ...append.hashes]),
      );
    }
    for (const delta of step.vmCounts) {
      s.putVmCount.run(addVmCounts(s.vmCount.get(delta.vm_id), delta));
    }
    const t = step.treeHead;
    s.putTreeHead.run({
      tile_height: this.tileHeight,
      height: t.head.height,
      hash: t.head.hash,
      tree_size: t.tree_size,
      frontier: Buffer.from(encodeFrontier({ size: t.tree_size, roots: t.frontier })),
      head_timestamp: t.head_timestamp,
      ...t.counts,
    });
  }
}
