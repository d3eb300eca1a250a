import { tilePath } from '../ledger/tile-paths';
import type { LedgerStore, MerkleLedgerStore } from '../ports/ledger-store';
import type { ObjectStore } from '../ports/object-store';
import type { Checkpointer } from './checkpointer';
import { readTileResource, tilesForSize } from './tlog-tiles';

/** Object key of the checkpoint (tlog-tiles `<prefix>/checkpoint`). */
export const CHECKPOINT_OBJECT = 'checkpoint';
export const TILE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
export const CHECKPOINT_CACHE_CONTROL = 'no-cache';

export interface PublishResult {
  /** The tree size published before this run (0 for none). */
  previous_size: number;
  tree_size: number;
  /** Tiles and entry bundles written. */
  tiles_written: number;
  /** Witnesses whose cosignature the published checkpoint carries. */
  cosigned_by: string[];
}

/** The tree size of a stored checkpoint (its second line); 0 when there is none or it is unreadable. */
function sizeOf(note: Uint8Array | null): number {
  if (!note) return 0;
  const line = Buffer.from(note).toString('utf8').split('\n')[1] ?? '';
  return /^(0|[1-9][0-9]{0,15})$/.test(line) ? Number(line) : 0;
}

/**
 * Publishes the ledger as a static tiled log (tlog-tiles) to an object store, the AWS counterpart of
 * the local runtime's read-only routes: when the chain grew since the checkpoint stored there, a new
 * checkpoint is signed (and witnessed) by `checkpointer`, every tile and entry bundle it needs that
 * was not written for the previous one is written (full tiles once, immutable; partial tiles under
 * their .p/<W> names), and the checkpoint last, so that a reader never sees a checkpoint whose tiles
 * are not there yet. Auditors then read the log from the bucket alone.
 */
export async function publishTlog(options: {
  store: LedgerStore & MerkleLedgerStore;
  checkpointer: Checkpointer;
  objects: ObjectStore;
  /** Tiles written at once. Default 8. */
  concurrency?: number;
}): Promise<PublishResult> {
  const { store, checkpointer, objects } = options;
  const previous = sizeOf(await objects.get(CHECKPOINT_OBJECT));
  const head = await store.readTreeHead();
  if (head.tree_size < previous) {
    throw new RangeError(
      `the chain has ${head.tree_size} blocks, fewer than the ${previous} of the published checkpoint: refusing to publish a rollback`,
    );
  }
  if (head.tree_size === previous)
    return { previous_size: previous, tree_size: previous, tiles_written: 0, cosigned_by: [] };
  const published = await checkpointer.publish();
  const size = published.digest.tree_size;
  const resources = tilesForSize(size, previous);
  let next = 0;
  const worker = async () => {
    while (next < resources.length) {
      const resource = resources[next++]!;
      const bytes = await readTileResource(store, resource);
      if (!bytes) throw new RangeError(`the store has no ${tilePath(resource)} for tree size ${size}`);
      await objects.put(tilePath(resource), bytes, {
        contentType: 'application/octet-stream',
        cacheControl: TILE_CACHE_CONTROL,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, resources.length) }, worker));
  await objects.put(CHECKPOINT_OBJECT, published.note, {
    contentType: 'text/plain; charset=utf-8',
    cacheControl: CHECKPOINT_CACHE_CONTROL,
  });
  return {
    previous_size: previous,
    tree_size: size,
    tiles_written: resources.length,
    cosigned_by: published.cosigned_by,
  };
}
