import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { parseOrThrow } from '../../../lib/errors';
import { exportJsonl } from '../../../lib/ledger/jsonl';
import { transactionProof } from '../../../lib/ledger/proofs';
import { verifyChain } from '../../../lib/ledger/verify';
import { blocksQuerySchema, transactionPathSchema } from '../../../lib/schemas/http';
import { NotFoundError } from '../../errors';
import type { LocalRuntime } from '../../runtime';
import { blocksFromStore } from '../../store-blocks';

export function ledgerRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();
  const { store } = runtime;

  app.get('/', async (c) => c.json(await runtime.ledgerSummary()));

  app.get('/blocks', async (c) => {
    const { from, limit } = parseOrThrow(blocksQuerySchema, c.req.query(), 'invalid query');
    const head = await store.readHead();
    return c.json({ height: head.height, blocks: await store.getBlocks(from, limit) });
  });

  app.get('/transactions/:id', async (c) => {
    const { id } = parseOrThrow(transactionPathSchema, c.req.param(), 'invalid transaction id');
    const at = await store.findTransaction(id);
    if (!at) throw new NotFoundError(`no transaction ${id}`);
    const block = await store.getBlock(at.height);
    if (!block) throw new NotFoundError(`no block ${at.height}`);
    await runtime.chain.catchUp(store);
    return c.json(transactionProof(block, at.index, runtime.chain.blockHashes, runtime.chain.digest()));
  });

  app.get('/digest', async (c) => {
    await runtime.chain.catchUp(store);
    return c.json(runtime.chain.digest());
  });

  app.post('/verify', async (c) => {
    const head = await store.readHead();
    const { digest: _digest, ...report } = await verifyChain(blocksFromStore(store, head.height), {
      expectedHead: head,
    });
    return c.json(report);
  });

  app.get('/export', async (c) => {
    const head = await store.readHead();
    c.header('Content-Type', 'application/x-ndjson');
    c.header('Content-Disposition', 'attachment; filename="ledger.jsonl"');
    return stream(c, async (out) => {
      for await (const line of exportJsonl(blocksFromStore(store, head.height))) {
        if (out.aborted) return;
        await out.write(line);
      }
    });
  });

  return app;
}
