import { Hono } from 'hono';
import { readJson } from '../../../http/errors';
import { parseOrThrow } from '../../../lib/errors';
import { fleetQuerySchema, vmIdSchema } from '../../../lib/schemas/http';
import type { LocalRuntime } from '../../runtime';

export function fleetRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();

  app.get('/', async (c) =>
    c.json(await runtime.fleetView(parseOrThrow(fleetQuerySchema, c.req.query(), 'invalid query'))),
  );

  app.get('/autoscaling', (c) => c.json(runtime.autoscaleView()));

  app.post('/vms', async (c) => {
    const ids = runtime.addVms(await readJson(c));
    return c.json({ added: ids }, 201);
  });

  app.post('/vms/:id/drain', async (c) => {
    const id = parseOrThrow(vmIdSchema, c.req.param('id'), 'invalid VM id');
    runtime.drain(id);
    return c.json({ id, state: 'draining' });
  });

  return app;
}
