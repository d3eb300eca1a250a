import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LedgerReader } from '../../lib/engine/ledger-reader';
import { advance, genesisStep, type MerkleStep } from '../../lib/engine/merkle-state';
import {
  blockLeafHash,
  buildBlocks,
  DenseMerkleTree,
  genesisBlock,
  toHex,
  toTimestamp,
} from '../../lib/ledger';
import { applyTileAppend, frontierRoot, TILE_HEIGHT, TiledMerkleTree, tileId } from '../../lib/ledger/tiles';
import type { Block, Transaction } from '../../lib/ledger/types';
import {
  isMerkleLedgerStore,
  type LedgerStore,
  type MerkleLedgerStore,
  type TreeHead,
} from '../../lib/ports/ledger-store';
import { closing, commitFor, decision, T0 } from './ledger-store.case';

/**
 * The persistent Merkle state contract (lib/ports/ledger-store.ts MerkleLedgerStore), run by every
 * store: after any sequence of appends the stored tree head, every tile and the counts equal the ones
 * lib/engine/merkle-state.ts computes from the blocks alone, and proofs answered from the stored tiles
 * equal the in-memory reference (DenseMerkleTree) at every size asked, across tile boundaries.
 */
export type MerkleStoreFactory = (options: {
  tileHeight?: number;
}) => Promise<{ store: LedgerStore; cleanup(): Promise<void> }>;

export interface MerkleStateContractOptions {
  timeout?: number;
  /** Blocks appended in the boundary-crossing test at tile height 2 (default 300: levels 0-4). */
  smallTileBlocks?: number;
  /** Blocks appended at the real tile height 8 (default 300: crosses the first 256-hash tile). */
  realTileBlocks?: number;
}

/** `count` blocks of one rejection each (no VM item), `perCommit` blocks per append. */
async function appendRejections(store: LedgerStore, count: number, perCommit: number, tag: string) {
  for (let done = 0; done < count; ) {
    const n = Math.min(perCommit, count - done);
    const head = await store.readHead();
    const txs: Transaction[] = [];
    for (let i = 0; i < n; i++) txs.push(decision(`${tag}-${done + i}`, null, { cpu: 1 }, T0 + done + i));
    const commit = commitFor(head, txs);
    // One transaction per block, so that a commit of n tasks adds n leaves.
    commit.blocks = buildBlocks(head, txs, { maxPerBlock: 1, timestamp: toTimestamp(T0 + done) });
    commit.tasks.forEach((change, i) => {
      change.record.block_height = commit.blocks[i]!.height;
    });
    const result = await store.append(head, commit);
    if (!result.ok) throw new Error(`append failed: ${result.detail}`);
    done += n;
  }
}

/** The store seen as a plain LedgerStore (no Merkle state): a LedgerReader on it replays the chain. */
export function chainOnly(store: LedgerStore): LedgerStore {
  const merkle = new Set(['readTreeHead', 'readTiles', 'readVmCounts', 'readHeightStates', 'readVmLedger']);
  return new Proxy(store, {
    get(target, property) {
      if (merkle.has(String(property))) return undefined;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The store with every method call's name recorded in `calls`. */
function recorded(store: LedgerStore, calls: string[]): LedgerStore {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(property));
        return value.apply(target, args);
      };
    },
  });
}

async function allBlocks(store: LedgerStore): Promise<Block[]> {
  const head = await store.readHead();
  const blocks: Block[] = [];
  while (blocks.length <= head.height) {
    const page = await store.getBlocks(blocks.length, 100);
    if (page.length === 0) break;
    blocks.push(...page);
  }
  return blocks;
}

/** The state lib/engine/merkle-state.ts derives from the blocks, and its tiles. */
function reference(blocks: readonly Block[], tileHeight: number) {
  const [genesis, ...rest] = blocks;
  let step: MerkleStep = genesisStep(genesis, tileHeight);
  const tiles = new Map<string, Uint8Array>();
  const apply = (s: MerkleStep) => {
    for (const a of s.tiles) tiles.set(tileId(a), applyTileAppend(tiles.get(tileId(a)), a));
  };
  apply(step);
  // One leaf at a time: the result must not depend on how appends grouped the blocks.
  for (const block of rest) {
    step = advance(step.treeHead, [block], tileHeight);
    apply(step);
  }
  const dense = new DenseMerkleTree();
  for (const b of blocks) dense.append(blockLeafHash(b.block_hash));
  return { treeHead: step.treeHead, tiles, dense };
}

const hex = (hashes: Uint8Array[]) => hashes.map(toHex);

function comparable(t: TreeHead) {
  return { ...t, frontier: hex(t.frontier) };
}

async function expectMatchesReference(store: LedgerStore & MerkleLedgerStore, tileHeight: number) {
  const blocks = await allBlocks(store);
  const ref = reference(blocks, tileHeight);
  const stored = await store.readTreeHead();
  expect(comparable(stored)).toEqual(comparable(ref.treeHead));
  expect(toHex(frontierRoot({ size: stored.tree_size, roots: stored.frontier }))).toBe(
    toHex(ref.dense.root()),
  );

  const keys = [...ref.tiles.keys()].map((id) => {
    const [level, index] = id.split('/').map(Number);
    return { level: level!, index: index! };
  });
  const tiles = await store.readTiles(keys);
  expect(new Set(tiles.keys())).toEqual(new Set(ref.tiles.keys()));
  for (const [id, tile] of ref.tiles) expect(toHex(tiles.get(id)!), `tile ${id}`).toBe(toHex(tile));
  // A tile beyond the tree is absent, not empty.
  expect((await store.readTiles([{ level: 0, index: 1e9 }])).size).toBe(0);

  const n = blocks.length;
  // Height states: each block's hash, timestamp and the transaction total through it.
  const heights = [...new Set([0, 1, Math.floor(n / 2), n - 2, n - 1].filter((h) => h >= 0))];
  let running = 0;
  const totals = blocks.map((b) => (running += b.transactions.length));
  expect(await store.readHeightStates([...heights, n, -1])).toEqual([
    ...heights.map((h) => ({
      height: h,
      block_hash: blocks[h]!.block_hash,
      timestamp: blocks[h]!.timestamp,
      transaction_total: totals[h],
    })),
    null,
    null,
  ]);

  const tree = new TiledMerkleTree((k) => store.readTiles(k), n, tileHeight);
  const sizes = [
    ...new Set([1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 255, 256, 257, n - 1, n].filter((s) => s >= 1 && s <= n)),
  ];
  for (const size of sizes) {
    expect(toHex(await tree.root(size)), `root ${size}`).toBe(toHex(ref.dense.root(size)));
    for (const index of [0, Math.floor(size / 2), size - 1]) {
      expect(hex(await tree.inclusionProof(index, size)), `inclusion ${index}/${size}`).toEqual(
        hex(ref.dense.inclusionProof(index, size)),
      );
    }
    for (const old of [1, Math.floor(size / 3), size - 1]) {
      if (old < 1 || old > size) continue;
      expect(hex(await tree.consistencyProof(old, size)), `consistency ${old}/${size}`).toEqual(
        hex(ref.dense.consistencyProof(old, size)),
      );
    }
  }
  return { blocks, stored };
}

export function merkleStateContract(
  name: string,
  makeStore: MerkleStoreFactory,
  options: MerkleStateContractOptions = {},
) {
  const timeout = options.timeout ?? 60_000;
  const smallTileBlocks = options.smallTileBlocks ?? 300;
  const realTileBlocks = options.realTileBlocks ?? 300;

  describe(`Merkle state contract: ${name}`, { timeout }, () => {
    let cleanups: (() => Promise<void>)[] = [];
    async function open(tileHeight?: number): Promise<LedgerStore & MerkleLedgerStore> {
      const { store, cleanup } = await makeStore(tileHeight === undefined ? {} : { tileHeight });
      cleanups.push(cleanup);
      if (!isMerkleLedgerStore(store)) throw new Error(`${name} does not keep the Merkle state`);
      return store;
    }
    beforeEach(() => {
      cleanups = [];
    });
    afterEach(async () => {
      for (const cleanup of cleanups) await cleanup();
    });

    it('starts with genesis as leaf 0, tile height 8, zero counts', async () => {
      const store = await open();
      expect(store.tileHeight).toBe(TILE_HEIGHT);
      const genesis = genesisBlock();
      const head = await store.readTreeHead();
      expect(comparable(head)).toEqual(comparable(genesisStep(genesis).treeHead));
      expect(head).toMatchObject({
        head: { height: 0, hash: genesis.block_hash },
        tree_size: 1,
        head_timestamp: genesis.timestamp,
        counts: { transactions: 0, assigned: 0, rejected: 0, completed: 0, failed: 0, expired: 0 },
      });
      expect(toHex((await store.readTiles([{ level: 0, index: 0 }])).get('0/0')!)).toBe(
        toHex(blockLeafHash(genesis.block_hash)),
      );
      expect(await store.readVmCounts()).toEqual([]);
    });

    it(`keeps tiles, frontier and proofs equal to the reference across tile boundaries (tile height 2, ${smallTileBlocks} blocks)`, async () => {
      const store = await open(2);
      expect(store.tileHeight).toBe(2);
      // Uneven commit sizes, so that appends start and end anywhere in a tile.
      const sizes = [1, 2, 3, 5, 7, 11];
      for (let done = 0, i = 0; done < smallTileBlocks; i++) {
        const n = Math.min(sizes[i % sizes.length]!, smallTileBlocks - done);
        await appendRejections(store, n, n, `s${i}`);
        done += n;
        if (i % 9 === 0) await expectMatchesReference(store, 2);
      }
      const { stored } = await expectMatchesReference(store, 2);
      expect(stored.tree_size).toBe(smallTileBlocks + 1);
      expect(stored.counts).toMatchObject({ transactions: smallTileBlocks, rejected: smallTileBlocks });
    });

    it(`crosses the first full 256-hash tile at the real tile height (${realTileBlocks} blocks)`, async () => {
      const store = await open();
      await appendRejections(store, realTileBlocks, 25, 'r');
      const { stored } = await expectMatchesReference(store, TILE_HEIGHT);
      expect(stored.tree_size).toBe(realTileBlocks + 1);
      if (realTileBlocks >= 255) {
        const level1 = (await store.readTiles([{ level: 1, index: 0 }])).get('1/0');
        expect(level1?.length).toBe(32 * Math.floor((realTileBlocks + 1) / 256));
      }
    });

    it('counts transactions by status and per VM as they are appended', async () => {
      const store = await open();
      const head = await store.readHead();
      const r1 = await store.append(
        head,
        commitFor(head, [
          decision('a', 'vm-1', { cpu: 1 }),
          decision('b', 'vm-2', { cpu: 1 }),
          decision('c', null, { cpu: 1 }),
          decision('d', 'vm-1', { cpu: 1 }),
        ]),
      );
      expect(r1.ok).toBe(true);
      const head2 = await store.readHead();
      const r2 = await store.append(
        head2,
        commitFor(head2, [
          closing('a', 'vm-1', 'completed', { cpu: 1 }),
          closing('b', 'vm-2', 'expired', { cpu: 1 }),
        ]),
      );
      expect(r2.ok).toBe(true);
      expect((await store.readTreeHead()).counts).toEqual({
        transactions: 6,
        assigned: 3,
        rejected: 1,
        completed: 1,
        failed: 0,
        expired: 1,
      });
      expect(await store.readVmCounts()).toEqual([
        { vm_id: 'vm-1', assigned: 2, completed: 1, failed: 0, expired: 0 },
        { vm_id: 'vm-2', assigned: 1, completed: 0, failed: 0, expired: 1 },
      ]);
      expect(await store.readVmCounts(['vm-2', 'vm-9'])).toEqual([
        { vm_id: 'vm-2', assigned: 1, completed: 0, failed: 0, expired: 1 },
      ]);
      await expectMatchesReference(store, TILE_HEIGHT);
    });

    it('answers a summary from the stored counts with the same store calls at any height, never replaying the chain', async () => {
      const store = await open();
      const head = await store.readHead();
      const r = await store.append(
        head,
        commitFor(head, [
          decision('v-a', 'vm-1', { cpu: 1 }),
          decision('v-b', 'vm-2', { cpu: 2 }),
          decision('v-c', null, { cpu: 1 }),
        ]),
      );
      expect(r.ok).toBe(true);
      const calls: string[] = [];
      const summaryAt = async () => {
        calls.length = 0;
        // A new reader each time: what a cold API container does.
        const summary = await new LedgerReader(recorded(store, calls)).summary();
        return { summary, calls: [...calls] };
      };
      const small = await summaryAt();
      await appendRejections(store, 120, 30, 'sum');
      const large = await summaryAt();
      expect(large.summary.height).toBe(small.summary.height + 120);
      expect(large.calls).toEqual(small.calls);
      expect(large.calls.filter((c) => /^(getBlocks|getBlock|findTransaction|readTiles)$/.test(c))).toEqual(
        [],
      );
      expect(large.summary).toMatchObject({ transaction_count: 123, assignments: 2, rejections: 121 });
      expect(large.summary.vms.map((v) => [v.vm_id, v.assignments, v.active_tasks])).toEqual([
        ['vm-1', 1, 1],
        ['vm-2', 1, 1],
      ]);
      // The same summary as a reader that replays every block.
      expect(large.summary).toEqual(await new LedgerReader(chainOnly(store)).summary());
    });

    it('changes no tile, frontier or count when an append is refused', async () => {
      const store = await open(2);
      await appendRejections(store, 6, 3, 'x');
      const before = {
        head: comparable(await store.readTreeHead()),
        tiles: await store.readTiles([
          { level: 0, index: 1 },
          { level: 1, index: 0 },
        ]),
        vms: await store.readVmCounts(),
      };
      const head = await store.readHead();
      // A task already recorded: a task conflict, found after the blocks were checked.
      const refused = await store.append(head, commitFor(head, [decision('x-0', 'vm-1', { cpu: 1 })]));
      expect(refused).toMatchObject({ ok: false, conflict: 'task-conflict' });
      const stale = await store.append(
        { height: head.height - 1, hash: head.hash },
        commitFor({ height: head.height - 1, hash: head.hash }, [decision('y', 'vm-1', { cpu: 1 })]),
      );
      expect(stale).toMatchObject({ ok: false, conflict: 'head-moved' });
      expect({
        head: comparable(await store.readTreeHead()),
        tiles: await store.readTiles([
          { level: 0, index: 1 },
          { level: 1, index: 0 },
        ]),
        vms: await store.readVmCounts(),
      }).toEqual(before);
    });

    it('stays equal to the reference when writers race for the head', async () => {
      const store = await open(2);
      const writers = 4;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let n = 0; n < 5; n++) {
            for (;;) {
              const head = await store.readHead();
              const tx = decision(`w${w}-${n}`, null, { cpu: 1 }, T0 + n);
              const result = await store.append(head, commitFor(head, [tx]));
              if (result.ok) break;
              if (result.conflict !== 'head-moved') throw new Error(result.detail);
            }
          }
        }),
      );
      const { stored } = await expectMatchesReference(store, 2);
      expect(stored.tree_size).toBe(writers * 5 + 1);
    });
  });
}
