import { Hono } from 'hono';
import type { LocalRuntime } from '../../runtime';
import { readJson } from '../errors';

export function configRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();
  app.get('/', (c) => c.json(runtime.configView()));
  app.put('/algorithm', async (c) => c.json(runtime.setAlgorithm(await readJson(c))));
  return app;
}
