import { MerkleRangeError } from './errors';
import { HASH_SIZE } from './hash';
import { emptyRoot, nodeHash, splitPoint } from './merkle/hasher';
import { consistencyPath, inclusionPath } from './merkle/proof';

/**
 * The block-hash tree (RFC 9162, leaves = raw 32-byte block hashes) kept as tiles, the layout of the
 * C2SP tlog-tiles specification (https://c2sp.org/tlog-tiles), so that a store holds the tree's
 * interior hashes and answers proofs by reading O(log n) tiles instead of rehashing every block.
 *
 * With tile height H (8 in every store: 2^8 = 256 hashes per tile, as tlog-tiles fixes it; smaller in
 * tests so that boundaries are crossed with few blocks):
 * - level L holds the hashes of the tree's perfect subtrees of height L*H, left to right: level 0 the
 *   leaf hashes SHA-256(0x00 || block_hash), level 1 the heads of each run of 2^H leaves, and so on;
 * - tile (L, N) holds level L's hashes N*2^H .. N*2^H + 2^H - 1, concatenated (32 bytes each); the
 *   rightmost tile of a level is partial (fewer hashes) until it fills, and a full tile never changes;
 * - a level L hash exists once its whole subtree exists, so at tree size n level L has
 *   floor(n / 2^(L*H)) hashes.
 * Every tile's bytes are thus fixed by the chain alone: an outside verifier can recompute them.
 *
 * The store also keeps the frontier (the compact range of [0, n): one perfect-subtree head per set
 * bit of n, largest first) so that an append computes the new interior hashes without reading tiles.
 */

/** tlog-tiles' tile height: 256 hashes per tile. */
export const TILE_HEIGHT = 8;

export interface TileKey {
  level: number;
  index: number;
}

/** Hashes appended to one tile by one append: `hashes` go at positions offset, offset + 1, ... */
export interface TileAppend extends TileKey {
  /** Hashes the tile held before (0 for a new tile): a store may check it as a write condition. */
  offset: number;
  hashes: Uint8Array[];
}

/** The compact range of a tree of `size` leaves: perfect-subtree heads, largest (leftmost) first. */
export interface MerkleFrontier {
  size: number;
  roots: Uint8Array[];
}

/** The tile a level's hash `position` lives in, and where in it. */
export function tileOf(
  level: number,
  position: number,
  tileHeight = TILE_HEIGHT,
): TileKey & { offset: number } {
  const width = 2 ** tileHeight;
  return { level, index: Math.floor(position / width), offset: position % width };
}

export function tileId(key: TileKey): string {
  return `${key.level}/${key.index}`;
}

export function emptyFrontier(): MerkleFrontier {
  return { size: 0, roots: [] };
}

/** MTH of the tree the frontier summarises. */
export function frontierRoot(frontier: MerkleFrontier): Uint8Array {
  const { roots } = frontier;
  if (roots.length === 0) return emptyRoot();
  let root = roots[roots.length - 1]!;
  for (let i = roots.length - 2; i >= 0; i--) root = nodeHash(roots[i]!, root);
  return root;
}

/** The frontier as stored: its roots concatenated (32 bytes each, largest subtree first). */
export function encodeFrontier(frontier: MerkleFrontier): Uint8Array {
  const bytes = new Uint8Array(frontier.roots.length * HASH_SIZE);
  frontier.roots.forEach((root, i) => {
    bytes.set(root, i * HASH_SIZE);
  });
  return bytes;
}

/** Inverse of encodeFrontier; checks that the number of roots is the number of set bits of `size`. */
export function decodeFrontier(size: number, bytes: Uint8Array): MerkleFrontier {
  const expected = popcount(size);
  if (bytes.length !== expected * HASH_SIZE) {
    throw new MerkleRangeError(
      `frontier of tree size ${size} has ${bytes.length} bytes, want ${expected * HASH_SIZE}`,
    );
  }
  const roots: Uint8Array[] = [];
  for (let i = 0; i < expected; i++) roots.push(bytes.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return { size, roots };
}

function popcount(n: number): number {
  let count = 0;
  for (let s = n; s > 0; s = Math.floor(s / 2)) count += s % 2;
  return count;
}

/**
 * Appends leaf hashes to the tree summarised by `frontier`: the new frontier and, per tile, the hashes
 * that join it (the leaf hashes at level 0 and every new perfect subtree of height L*H at level L).
 * Pure: the caller writes the result with the append that adds the blocks.
 */
export function appendLeaves(
  frontier: MerkleFrontier,
  leafHashes: readonly Uint8Array[],
  tileHeight = TILE_HEIGHT,
): { frontier: MerkleFrontier; appends: TileAppend[] } {
  const roots = [...frontier.roots];
  let size = frontier.size;
  const byTile = new Map<string, TileAppend>();
  const record = (level: number, position: number, hash: Uint8Array) => {
    const { index, offset } = tileOf(level, position, tileHeight);
    const id = `${level}/${index}`;
    const pending = byTile.get(id);
    if (pending) pending.hashes.push(hash);
    else byTile.set(id, { level, index, offset, hashes: [hash] });
  };
  for (const leaf of leafHashes) {
    if (leaf.length !== HASH_SIZE) throw new MerkleRangeError(`leaf hash of ${leaf.length} bytes`);
    let node = leaf;
    record(0, size, node);
    // Each trailing one bit of the old size is a perfect subtree of the same height as `node`: merge.
    let height = 0;
    for (let s = size; s % 2 === 1; s = Math.floor(s / 2)) {
      node = nodeHash(roots.pop()!, node);
      height += 1;
      if (height % tileHeight === 0) {
        record(height / tileHeight, Math.floor(size / 2 ** height), node);
      }
    }
    roots.push(node);
    size += 1;
  }
  return { frontier: { size, roots }, appends: [...byTile.values()] };
}

/** Reads tiles by key; a tile may be longer than needed (it grew since), never shorter. */
export type TileReader = (keys: readonly TileKey[]) => Promise<Map<string, Uint8Array>>;

/** A perfect subtree: leaves [index * 2^height, (index + 1) * 2^height). */
interface Node {
  height: number;
  index: number;
}

/** The perfect subtrees MTH splits [lo, hi) into, left to right. */
function perfectNodes(lo: number, hi: number, out: Node[]): void {
  const n = hi - lo;
  if ((n & (n - 1)) === 0 && n > 0 && lo % n === 0) {
    out.push({ height: Math.log2(n), index: lo / n });
    return;
  }
  const k = splitPoint(n);
  perfectNodes(lo, lo + k, out);
  perfectNodes(lo + k, hi, out);
}

function tileOfNode(node: Node, tileHeight: number): TileKey & { from: number; count: number } {
  const level = Math.floor(node.height / tileHeight);
  const rest = node.height - level * tileHeight;
  const count = 2 ** rest;
  const first = node.index * count;
  const { index, offset } = tileOf(level, first, tileHeight);
  return { level, index, from: offset, count };
}

/**
 * Answers proofs and heads of any tree size up to the stored one from tiles: each needs O(log n)
 * perfect subtrees, each read from one tile (and hashed from at most 2^(H-1) of its hashes), so a
 * proof costs O(log n) tile reads, which a store batches into one round trip.
 */
export class TiledMerkleTree {
  constructor(
    private readonly read: TileReader,
    /** Leaves the store holds; proofs and heads are for sizes up to it. */
    readonly size: number,
    private readonly tileHeight = TILE_HEIGHT,
    /** Full tiles kept between trees (a reader passes one cache to every tree it builds). */
    private readonly cache?: FullTileCache,
  ) {}

  /** MTH of the first `treeSize` leaves. */
  async root(treeSize = this.size): Promise<Uint8Array> {
    this.check(treeSize);
    if (treeSize === 0) return emptyRoot();
    const nodes: Node[] = [];
    perfectNodes(0, treeSize, nodes);
    const hashes = await this.nodeHashes(nodes);
    let root = hashes[hashes.length - 1]!;
    for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i]!, root);
    return root;
  }

  /**
   * The frontier (compact range) of the first `treeSize` leaves: the heads of the perfect subtrees MTH
   * splits [0, treeSize) into, largest first; frontierRoot of it is root(treeSize).
   */
  async frontier(treeSize = this.size): Promise<Uint8Array[]> {
    this.check(treeSize);
    const nodes: Node[] = [];
    if (treeSize > 0) perfectNodes(0, treeSize, nodes);
    return this.nodeHashes(nodes);
  }

  /** The leaf hash at `index`. */
  async leaf(index: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw new MerkleRangeError(`leaf index ${index} out of range for tree size ${this.size}`);
    }
    return (await this.nodeHashes([{ height: 0, index }]))[0]!;
  }

  /** PATH(index, D[treeSize]). Preconditions: 0 <= index < treeSize <= size. */
  async inclusionProof(index: number, treeSize = this.size): Promise<Uint8Array[]> {
    this.check(treeSize);
    return this.run((root) => inclusionPath(root, index, treeSize));
  }

  /** PROOF(oldSize, D[treeSize]). Preconditions: 0 <= oldSize <= treeSize <= size. */
  async consistencyProof(oldSize: number, treeSize = this.size): Promise<Uint8Array[]> {
    this.check(treeSize);
    return this.run((root) => consistencyPath(root, oldSize, treeSize));
  }

  /**
   * Runs a proof recursion twice: first to learn which subtrees it asks for (placeholders answer),
   * then, with those subtrees' tiles read in one batch, for real.
   */
  private async run(
    proof: (root: (lo: number, hi: number) => Uint8Array) => Uint8Array[],
  ): Promise<Uint8Array[]> {
    const wanted: Node[] = [];
    const placeholder = new Uint8Array(HASH_SIZE);
    proof((lo, hi) => {
      perfectNodes(lo, hi, wanted);
      return placeholder;
    });
    const known = new Map<string, Uint8Array>();
    const hashes = await this.nodeHashes(wanted);
    wanted.forEach((node, i) => {
      known.set(`${node.height}/${node.index}`, hashes[i]!);
    });
    return proof((lo, hi) => {
      const nodes: Node[] = [];
      perfectNodes(lo, hi, nodes);
      const heads = nodes.map((node) => known.get(`${node.height}/${node.index}`)!);
      let root = heads[heads.length - 1]!;
      for (let i = heads.length - 2; i >= 0; i--) root = nodeHash(heads[i]!, root);
      return root;
    });
  }

  private async nodeHashes(nodes: readonly Node[]): Promise<Uint8Array[]> {
    const places = nodes.map((node) => tileOfNode(node, this.tileHeight));
    const keys = new Map<string, TileKey>();
    const cached = new Map<string, FullTile>();
    for (const { level, index } of places) {
      const id = `${level}/${index}`;
      const full = this.cache?.get(id);
      if (full) cached.set(id, full);
      else keys.set(id, { level, index });
    }
    const tiles = keys.size === 0 ? new Map<string, Uint8Array>() : await this.read([...keys.values()]);
    if (this.cache) {
      for (const [id, tile] of tiles) {
        if (tile.length === 2 ** this.tileHeight * HASH_SIZE) {
          const full = new FullTile(tile, this.tileHeight);
          this.cache.set(id, full);
          cached.set(id, full);
        }
      }
    }
    return places.map((place) => {
      const id = `${place.level}/${place.index}`;
      const full = cached.get(id);
      if (full) return full.subtree(place.from, place.count);
      const tile = tiles.get(id);
      const need = (place.from + place.count) * HASH_SIZE;
      if (!tile || tile.length < need) {
        throw new MerkleRangeError(
          `tile ${id} has ${tile ? tile.length / HASH_SIZE : 0} hashes, need ${place.from + place.count}: the stored tree is behind its head`,
        );
      }
      return subtreeOfRun(tile, place.from, place.count);
    });
  }

  private check(treeSize: number): void {
    if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > this.size) {
      throw new MerkleRangeError(`tree size ${treeSize} out of range 0..${this.size}`);
    }
  }
}

/**
 * A full tile with every interior hash of its 2^H-leaf subtree computed once (2^(H+1) - 1 hashes,
 * 16 KB at H = 8): a full tile never changes (tlog-tiles lets clients cache them for ever), so a proof
 * that needs one of its subtrees looks it up instead of hashing up to 2^(H-1) of its hashes.
 */
export class FullTile {
  /** layers[r]: the heads of the tile's runs of 2^r hashes, 32 bytes each, concatenated. */
  private readonly layers: Uint8Array[];

  constructor(tile: Uint8Array, tileHeight: number) {
    let layer = tile.slice(0, 2 ** tileHeight * HASH_SIZE);
    this.layers = [layer];
    while (layer.length > HASH_SIZE) {
      const next = new Uint8Array(layer.length / 2);
      for (let i = 0; i < next.length; i += HASH_SIZE) {
        next.set(
          nodeHash(
            layer.subarray(2 * i, 2 * i + HASH_SIZE),
            layer.subarray(2 * i + HASH_SIZE, 2 * i + 2 * HASH_SIZE),
          ),
          i,
        );
      }
      this.layers.push(next);
      layer = next;
    }
  }

  /** Head of the `count` (a power of two) hashes from `from` (a multiple of count). */
  subtree(from: number, count: number): Uint8Array {
    const at = (from / count) * HASH_SIZE;
    return this.layers[Math.log2(count)]!.slice(at, at + HASH_SIZE);
  }
}

/**
 * Full tiles by id ("level/index"), least recently used dropped past `capacity` (default 256 tiles, 16 KB
 * each at H = 8: 4 MB): with it, a reader reads and hashes only the tiles a proof needs that are not yet full or
 * not yet seen, which at any height leaves about one level-0 tile and the partial tiles per proof.
 */
export class FullTileCache {
  private readonly tiles = new Map<string, FullTile>();

  constructor(private readonly capacity = 256) {}

  get(id: string): FullTile | undefined {
    const tile = this.tiles.get(id);
    if (tile) {
      this.tiles.delete(id);
      this.tiles.set(id, tile);
    }
    return tile;
  }

  set(id: string, tile: FullTile): void {
    this.tiles.delete(id);
    this.tiles.set(id, tile);
    if (this.tiles.size > this.capacity) this.tiles.delete(this.tiles.keys().next().value!);
  }
}

/** Head of the perfect subtree over `count` (a power of two) consecutive hashes of a tile. */
function subtreeOfRun(tile: Uint8Array, from: number, count: number): Uint8Array {
  let layer: Uint8Array[] = [];
  for (let i = 0; i < count; i++) layer.push(tile.slice((from + i) * HASH_SIZE, (from + i + 1) * HASH_SIZE));
  while (layer.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < layer.length; i += 2) next.push(nodeHash(layer[i]!, layer[i + 1]!));
    layer = next;
  }
  return layer[0]!;
}

/**
 * Applies tile appends to tiles held as byte arrays (the memory store; a test's reference): checks that
 * each tile holds exactly `offset` hashes first, so a store can never write a hash in the wrong place.
 */
export function applyTileAppend(current: Uint8Array | undefined, append: TileAppend): Uint8Array {
  const held = current ? current.length / HASH_SIZE : 0;
  if (held !== append.offset) {
    throw new MerkleRangeError(
      `tile ${tileId(append)} holds ${held} hashes, the append expects ${append.offset}`,
    );
  }
  const next = new Uint8Array((held + append.hashes.length) * HASH_SIZE);
  if (current) next.set(current);
  append.hashes.forEach((hash, i) => {
    next.set(hash, (held + i) * HASH_SIZE);
  });
  return next;
}
