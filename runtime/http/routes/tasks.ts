import { Hono } from 'hono';
import { readJson } from '../../../http/errors';
import { QueueFullError } from '../../../lib/errors';
import type { LocalRuntime } from '../../runtime';

export function taskRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();

  app.post('/', async (c) => {
    await refuseWhenFull(runtime);
    const result = await runtime.intake.submitBody(await readJson(c));
    return c.json(result, 202);
  });

  return app;
}

/**
 * A full queue refuses before the body is read: reading and JSON-parsing a 100-task body cost as
 * much as accepting it, so under a burst refusals would starve the scheduler that drains the queue.
 * The intake checks again (the depth is cached, so that costs nothing). A store error here is left
 * to the intake's own check, which maps it to a 503.
 */
async function refuseWhenFull(runtime: LocalRuntime): Promise<void> {
  const limit = runtime.config.max_queue_depth;
  let depth: number;
  try {
    depth = await runtime.intake.depth();
  } catch {
    return;
  }
  if (depth >= limit) throw new QueueFullError(depth, limit);
}
