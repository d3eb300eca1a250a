import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { LocalRuntime } from '../runtime';
import { requireTokenForWrites } from './auth';
import { errorHandler } from './errors';
import { refuseForeignHostsForWrites } from './host-check';
import { openApiDocument } from './openapi';
import { configRoutes } from './routes/config';
import { eventRoutes } from './routes/events';
import { fleetRoutes } from './routes/fleet';
import { generatorRoutes } from './routes/generator';
import { ledgerRoutes } from './routes/ledger';
import { taskRoutes } from './routes/tasks';
import { vmRoutes } from './routes/vms';

export interface StaticAsset {
  body: Uint8Array;
  type: string;
}

export interface AppOptions {
  /** Dashboard files keyed by URL path ('/', '/assets/app.js', ...). */
  assets: ReadonlyMap<string, StaticAsset>;
  algorithms: readonly string[];
  log: (message: string) => void;
}

/** The HTTP API of the local runtime: the same routes and payloads as the API Gateway deployment. */
export function createApp(runtime: LocalRuntime, options: AppOptions): Hono {
  const { config } = runtime;
  const app = new Hono();
  app.onError(errorHandler(options.log));
  app.notFound((c) => c.json({ error: 'NotFound', message: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.use('*', refuseForeignHostsForWrites({ boundHost: config.host, allowedHosts: config.allowed_hosts }));
  app.use('*', requireTokenForWrites(config.token));
  app.use(
    '*',
    bodyLimit({
      maxSize: config.max_body_bytes,
      onError: (c) =>
        c.json(
          { error: 'PayloadTooLarge', message: `request body over ${config.max_body_bytes} bytes` },
          413,
        ),
    }),
  );

  app.route('/tasks', taskRoutes(runtime));
  app.route('/fleet', fleetRoutes(runtime));
  app.route('/config', configRoutes(runtime));
  app.route('/ledger', ledgerRoutes(runtime));
  app.route('/generator', generatorRoutes(runtime));
  app.route('/events', eventRoutes(runtime));
  app.route('/vms', vmRoutes(runtime));

  const openapi = openApiDocument(config.dimensions, options.algorithms);
  app.get('/openapi.json', (c) => c.json(openapi));

  app.get('*', (c) => {
    const asset = options.assets.get(c.req.path);
    if (!asset) return c.json({ error: 'NotFound', message: `no route GET ${c.req.path}` }, 404);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': asset.type });
  });

  return app;
}
