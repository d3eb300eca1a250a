import { Hono } from 'hono';
import { readJson } from '../../../http/errors';
import type { LocalRuntime } from '../../runtime';

export function generatorRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();
  app.get('/', (c) => c.json(runtime.generator.state));
  app.post('/', async (c) => c.json(runtime.generator.update(await readJson(c))));
  return app;
}
