import { Hono } from 'hono';
import { readJson } from '../../../http/errors';
import type { LocalRuntime } from '../../runtime';

export function configRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();
  app.get('/', (c) => c.json(runtime.configView()));
  app.put('/algorithm', async (c) => c.json(runtime.setAlgorithm(await readJson(c))));
  return app;
}
