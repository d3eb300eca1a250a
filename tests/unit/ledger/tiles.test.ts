import { describe, expect, it } from 'vitest';
import {
  consistencyProofFromLeafHashes,
  DenseMerkleTree,
  emptyRoot,
  inclusionProofFromLeafHashes,
  leafHash,
  MerkleRangeError,
  rootFromLeafHashes,
  sha256,
  toHex,
} from '../../../lib/ledger';
import {
  appendLeaves,
  applyTileAppend,
  decodeFrontier,
  emptyFrontier,
  encodeFrontier,
  FullTileCache,
  frontierRoot,
  type MerkleFrontier,
  TILE_HEIGHT,
  TiledMerkleTree,
  type TileKey,
  tileId,
} from '../../../lib/ledger/tiles';

/** Tiles built by appending `leaves` in batches of `batch`, with the reads a proof made counted. */
function tiled(leaves: readonly Uint8Array[], tileHeight: number, batch = 3) {
  const tiles = new Map<string, Uint8Array>();
  let frontier: MerkleFrontier = emptyFrontier();
  for (let i = 0; i < leaves.length; i += batch) {
    const step = appendLeaves(frontier, leaves.slice(i, i + batch), tileHeight);
    for (const append of step.appends) {
      tiles.set(tileId(append), applyTileAppend(tiles.get(tileId(append)), append));
    }
    frontier = step.frontier;
  }
  const reads: TileKey[][] = [];
  const tree = new TiledMerkleTree(
    async (keys) => {
      reads.push([...keys]);
      return new Map(keys.flatMap((k) => (tiles.has(tileId(k)) ? [[tileId(k), tiles.get(tileId(k))!]] : [])));
    },
    leaves.length,
    tileHeight,
  );
  return { tiles, frontier, tree, reads };
}

const leavesOf = (n: number) =>
  Array.from({ length: n }, (_, i) => leafHash(sha256(Uint8Array.of(i % 256, i >> 8))));
const hex = (hashes: Uint8Array[]) => hashes.map(toHex);

describe('tiles of the block-hash tree', { timeout: 120_000 }, () => {
  it.each([1, 2, 3])(
    'match the RFC 9162 reference at every size 0-70 and every proof, tile height %i',
    async (h) => {
      const leaves = leavesOf(70);
      const { tree } = tiled(leaves, h);
      for (let n = 0; n <= 70; n++) {
        const prefix = leaves.slice(0, n);
        expect(toHex(await tree.root(n)), `root ${n}`).toBe(
          toHex(n === 0 ? emptyRoot() : rootFromLeafHashes(prefix)),
        );
        for (let i = 0; i < n; i++) {
          expect(hex(await tree.inclusionProof(i, n)), `inclusion ${i}/${n}`).toEqual(
            hex(inclusionProofFromLeafHashes(prefix, i)),
          );
        }
        for (let m = 0; m <= n; m++) {
          expect(hex(await tree.consistencyProof(m, n)), `consistency ${m}/${n}`).toEqual(
            hex(consistencyProofFromLeafHashes(prefix, m)),
          );
        }
      }
    },
  );

  it('lays out level 0 as the leaf hashes and level 1 as the heads of each full run, 2^H per tile', () => {
    const leaves = leavesOf(21);
    const { tiles, frontier } = tiled(leaves, 2, 5);
    // H = 2: 4 hashes per tile; 21 leaves are 5 full level-0 tiles and one of 1; level 1 has 5 hashes
    // (heads of 4 leaves), level 2 one (the head of leaves 0-15).
    expect([...tiles.keys()].sort()).toEqual(['0/0', '0/1', '0/2', '0/3', '0/4', '0/5', '1/0', '1/1', '2/0']);
    expect(toHex(tiles.get('2/0')!)).toBe(toHex(rootFromLeafHashes(leaves.slice(0, 16))));
    expect(tiles.get('0/5')!.length).toBe(32);
    expect(toHex(tiles.get('0/2')!)).toBe(Buffer.concat(leaves.slice(8, 12)).toString('hex'));
    expect(toHex(tiles.get('1/1')!)).toBe(toHex(rootFromLeafHashes(leaves.slice(16, 20))));
    expect(tiles.get('1/0')!.length).toBe(4 * 32);
    expect(toHex(frontierRoot(frontier))).toBe(toHex(rootFromLeafHashes(leaves)));
  });

  it('reads O(log n) tiles per proof, in one batch', async () => {
    const leaves = leavesOf(5000);
    const { tree, reads } = tiled(leaves, TILE_HEIGHT, 97);
    const dense = new DenseMerkleTree();
    for (const l of leaves) dense.append(l);
    expect(hex(await tree.inclusionProof(1234))).toEqual(hex(dense.inclusionProof(1234)));
    expect(hex(await tree.consistencyProof(4000))).toEqual(hex(dense.consistencyProof(4000)));
    expect(reads).toHaveLength(2);
    // 5000 leaves = 19 full level-0 tiles + 1 partial, 19 level-1 hashes: at most 2 tiles per level.
    for (const batch of reads) expect(batch.length).toBeLessThanOrEqual(4);
  });

  it('never changes a full tile as the tree grows', () => {
    const leaves = leavesOf(600);
    const early = tiled(leaves.slice(0, 300), TILE_HEIGHT, 7).tiles;
    const late = tiled(leaves, TILE_HEIGHT, 11).tiles;
    expect(late.get('0/0')).toEqual(early.get('0/0'));
    expect(early.get('0/1')!.length).toBe(44 * 32);
    expect(late.get('0/1')!.subarray(0, 44 * 32)).toEqual(early.get('0/1'));
  });

  it('round-trips the frontier and refuses one of the wrong length', () => {
    const { frontier } = tiled(leavesOf(13), 8);
    expect(frontier.roots).toHaveLength(3);
    expect(decodeFrontier(13, encodeFrontier(frontier))).toEqual(frontier);
    expect(() => decodeFrontier(12, encodeFrontier(frontier))).toThrow(/tree size 12 has 96 bytes, want 64/);
  });

  it('refuses an append at the wrong offset and a proof from tiles behind the size asked', async () => {
    const { tiles } = tiled(leavesOf(5), 8);
    expect(() => applyTileAppend(tiles.get('0/0'), { level: 0, index: 0, offset: 4, hashes: [] })).toThrow(
      /holds 5 hashes, the append expects 4/,
    );
    const behind = new TiledMerkleTree(async () => new Map([['0/0', tiles.get('0/0')!]]), 6, 8);
    await expect(behind.root(6)).rejects.toThrow(MerkleRangeError);
    await expect(behind.inclusionProof(2)).rejects.toThrow(/tile 0\/0 has 5 hashes, need 6/);
    await expect(behind.root(7)).rejects.toThrow(/out of range 0..6/);
  });
});

describe('FullTileCache', () => {
  it('answers proofs from cached full tiles exactly as from the tiles, reading each full tile once', async () => {
    const leaves = leavesOf(70);
    const { frontier, appends } = appendLeaves(emptyFrontier(), leaves, 2);
    const tiles = new Map<string, Uint8Array>();
    for (const a of appends) tiles.set(tileId(a), applyTileAppend(tiles.get(tileId(a)), a));
    const reads: string[] = [];
    const read = async (keys: readonly TileKey[]) => {
      for (const k of keys) reads.push(tileId(k));
      return new Map(keys.flatMap((k) => (tiles.has(tileId(k)) ? [[tileId(k), tiles.get(tileId(k))!]] : [])));
    };
    const cache = new FullTileCache(64);
    const dense = new DenseMerkleTree();
    for (const leaf of leaves) dense.append(leaf);
    for (let round = 0; round < 2; round++) {
      const tree = new TiledMerkleTree(read, frontier.size, 2, cache);
      for (const size of [1, 5, 16, 17, 64, 69, 70]) {
        expect(toHex(await tree.root(size))).toBe(toHex(dense.root(size)));
        for (const index of [0, size - 1]) {
          expect((await tree.inclusionProof(index, size)).map(toHex)).toEqual(
            dense.inclusionProof(index, size).map(toHex),
          );
        }
        expect((await tree.consistencyProof(1, size)).map(toHex)).toEqual(
          dense.consistencyProof(1, size).map(toHex),
        );
      }
    }
    // A full tile (4 hashes at H = 2) is read at most once; partial ones every time they are needed.
    const full = [...tiles].filter(([, t]) => t.length === 4 * 32).map(([id]) => id);
    for (const id of full) expect(reads.filter((r) => r === id).length, id).toBeLessThanOrEqual(1);
    expect(full.length).toBeGreaterThan(10);
  });
});
