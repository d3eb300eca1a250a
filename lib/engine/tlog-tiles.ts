import { fromHex, HASH_SIZE } from '../ledger/hash';
import { TILE_WIDTH, type TileResource } from '../ledger/tile-paths';
import { TILE_HEIGHT, TiledMerkleTree } from '../ledger/tiles';
import type { LedgerStore, MerkleLedgerStore } from '../ports/ledger-store';

/** Entry size prefix of an entry bundle: every entry is a 32-byte block hash (uint16 big-endian 32). */
const ENTRY_PREFIX = Uint8Array.of(0, HASH_SIZE);

/**
 * The bytes of a tlog-tiles resource (lib/ledger/tile-paths.ts) read from a store's Merkle state, or
 * null when the log does not have it yet (a 404): a hash tile needs `width` hashes stored at its level,
 * an entry bundle `width` blocks. A partial tile is the first `width` hashes of the stored tile, so
 * its bytes never change either (stored tiles only grow at their end, lib/ledger/tiles.ts), and a full
 * tile is served only once it holds all 256.
 */
export async function readTileResource(
  store: LedgerStore & MerkleLedgerStore,
  resource: TileResource,
): Promise<Uint8Array | null> {
  if (store.tileHeight !== TILE_HEIGHT) {
    throw new RangeError(
      `the store keeps tiles of height ${store.tileHeight}; tlog-tiles needs ${TILE_HEIGHT}`,
    );
  }
  const { index, width } = resource;
  if (resource.level === 'entries') {
    const first = index * TILE_WIDTH;
    const blocks = await store.getBlocks(first, width);
    if (blocks.length < width) return null;
    const bundle = new Uint8Array(width * (HASH_SIZE + 2));
    blocks.forEach((block, i) => {
      if (block.height !== first + i)
        throw new RangeError(`store returned block ${block.height} for ${first + i}`);
      bundle.set(ENTRY_PREFIX, i * (HASH_SIZE + 2));
      bundle.set(fromHex(block.block_hash), i * (HASH_SIZE + 2) + 2);
    });
    return bundle;
  }
  const tiles = await store.readTiles([{ level: resource.level, index }]);
  const tile = tiles.get(`${resource.level}/${index}`);
  if (!tile || tile.length < width * HASH_SIZE) return null;
  return tile.slice(0, width * HASH_SIZE);
}

/**
 * Every tile and entry bundle a checkpoint of `treeSize` leaves needs (tlog-tiles: the full tiles below
 * it and the partial tile of width floor(size / 256^L) mod 256 at each level), for a publisher that
 * writes them out. `since` (an earlier published size) leaves out the full tiles already written then.
 */
export function tilesForSize(treeSize: number, since = 0): TileResource[] {
  const out: TileResource[] = [];
  for (let level = 0; ; level++) {
    const span = TILE_WIDTH ** level;
    const hashes = Math.floor(treeSize / span);
    if (hashes === 0) break;
    const before = Math.floor(since / span);
    const fullNow = Math.floor(hashes / TILE_WIDTH);
    const fullBefore = Math.floor(before / TILE_WIDTH);
    for (let n = fullBefore; n < fullNow; n++) {
      out.push({ level, index: n, width: TILE_WIDTH });
      if (level === 0) out.push({ level: 'entries', index: n, width: TILE_WIDTH });
    }
    const rest = hashes % TILE_WIDTH;
    if (rest > 0) {
      out.push({ level, index: fullNow, width: rest });
      if (level === 0) out.push({ level: 'entries', index: fullNow, width: rest });
    }
  }
  return out;
}

/** RFC 6962 consistency proofs between tree sizes, read from the store's tiles (for a Checkpointer). */
export function storeConsistency(
  store: MerkleLedgerStore,
): (oldSize: number, newSize: number) => Promise<Uint8Array[]> {
  return async (oldSize, newSize) => {
    const head = await store.readTreeHead();
    const tree = new TiledMerkleTree((keys) => store.readTiles(keys), head.tree_size, store.tileHeight);
    return tree.consistencyProof(oldSize, newSize);
  };
}
