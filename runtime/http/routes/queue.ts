import { Hono } from 'hono';
import { parseOrThrow } from '../../../lib/errors';
import { deadLettersQuerySchema } from '../../../lib/schemas/http';
import type { LocalRuntime } from '../../runtime';

/**
 * The durable queue as the API shows it: its depth, and the dead-letter table, which holds rows
 * that could not be read back as a task (a damaged file). An accepted task never ends there: it is
 * decided, or recorded as rejected with the reason (runtime/scheduler-loop.ts).
 */
export function queueRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();

  app.get('/', async (c) => c.json(await runtime.queueView()));

  app.get('/dead-letters', async (c) => {
    const { limit } = parseOrThrow(deadLettersQuerySchema, c.req.query(), 'invalid query');
    return c.json(await runtime.deadLettersView(limit));
  });

  return app;
}
