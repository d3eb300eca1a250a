import { Hono } from 'hono';
import { parseOrThrow } from '../../../lib/errors';
import { taskPathSchema } from '../../../lib/schemas/http';
import { NotFoundError } from '../../errors';
import type { LocalRuntime } from '../../runtime';
import { readJson } from '../errors';

export function taskRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();

  app.post('/', async (c) => {
    const result = await runtime.intake.submitBody(await readJson(c));
    return c.json(result, 202);
  });

  app.get('/:id', async (c) => {
    const { id } = parseOrThrow(taskPathSchema, c.req.param(), 'invalid task id');
    const status = await runtime.taskStatus(id);
    if (!status) throw new NotFoundError(`no task ${id}`);
    return c.json(status);
  });

  app.post('/:id/complete', async (c) => {
    const { id } = parseOrThrow(taskPathSchema, c.req.param(), 'invalid task id');
    const result = await runtime.complete(id);
    if (!result) throw new NotFoundError(`no assigned task ${id}`);
    return c.json(result);
  });

  return app;
}
