import { Hono } from 'hono';
import { readTileResource } from '../../../lib/engine/tlog-tiles';
import { NotFoundError } from '../../../lib/errors';
import { parseTileSegments } from '../../../lib/ledger/tile-paths';
import { isMerkleLedgerStore } from '../../../lib/ports/ledger-store';
import type { LocalRuntime } from '../../runtime';

/** tlog-tiles: tiles never change once served; the checkpoint moves, so it is not cached beyond seconds. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const CHECKPOINT_CACHE = 'no-cache';

function checkpointer(runtime: LocalRuntime) {
  if (!runtime.tlog) throw new NotFoundError('this runtime publishes no checkpoints (no signing key)');
  return runtime.tlog.checkpointer;
}

/**
 * The ledger as a C2SP tiled transparency log (docs/ledger-format.md section 12), read-only, at the
 * server's root: GET /checkpoint (the signed note, with witness cosignatures) and
 * GET /tile/<L>/<N>[.p/<W>], GET /tile/entries/<N>[.p/<W>] read from the store's Merkle state. A
 * malformed tile path is a 400 naming the path segment; a tile the log does not have yet a 404.
 */
export function tlogRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();

  app.get('/checkpoint', async (c) => {
    const published = await checkpointer(runtime).latest();
    c.header('Cache-Control', CHECKPOINT_CACHE);
    return c.body(published.note, 200, { 'Content-Type': 'text/plain; charset=utf-8' });
  });

  app.get('/tile/*', async (c) => {
    const segments = c.req.path.split('/').slice(2);
    const resource = parseTileSegments(segments);
    const { store } = runtime;
    if (!isMerkleLedgerStore(store)) throw new NotFoundError('this store keeps no tiles');
    const bytes = await readTileResource(store, resource);
    if (!bytes) throw new NotFoundError(`no tile ${c.req.path.slice(1)} in this log yet`);
    c.header('Cache-Control', IMMUTABLE);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': 'application/octet-stream' });
  });

  return app;
}
