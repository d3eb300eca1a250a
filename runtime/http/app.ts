import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { schedulerApi } from '../../http/api';
import { errorHandler, noRoute } from '../../http/errors';
import { NotFoundError } from '../../lib/errors';
import { openApiDocument } from '../../lib/schemas/openapi';
import { apiRoutes } from '../../lib/schemas/routes';
import { LocalAuditJobs } from '../full-audit';
import type { LocalRuntime } from '../runtime';
import { requireTokenForWrites } from './auth';
import { refuseForeignHostsForWrites } from './host-check';
import { configRoutes } from './routes/config';
import { eventRoutes } from './routes/events';
import { fleetRoutes } from './routes/fleet';
import { generatorRoutes } from './routes/generator';
import { ledgerRoutes } from './routes/ledger';
import { queueRoutes } from './routes/queue';
import { taskRoutes } from './routes/tasks';
import { tlogRoutes } from './routes/tlog';
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
  const audits = new LocalAuditJobs(runtime.store);
  const app = new Hono();
  app.onError(errorHandler(options.log));
  const routes = apiRoutes({ dimensions: config.dimensions, algorithms: options.algorithms }).filter((r) =>
    r.servedBy.includes('local'),
  );
  // A known path asked with a method it does not serve is a 405 naming the ones it does.
  const unrouted = noRoute(routes);
  app.notFound(unrouted);
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

  app.route(
    '/',
    schedulerApi({
      taskStatus: (id) => runtime.taskStatus(id),
      complete: (id, outcome) => runtime.complete(id, outcome),
      ledger: async () => runtime.ledger,
      store: async () => runtime.store,
      auditJob: (id) => audits.get(id),
      signedDigest: () => {
        if (!runtime.digestSigning) throw new NotFoundError('this runtime signs no digests (no signing key)');
        return runtime.digestSigning.sign();
      },
    }),
  );
  app.route('/tasks', taskRoutes(runtime));
  app.route('/fleet', fleetRoutes(runtime));
  app.route('/config', configRoutes(runtime));
  app.route('/ledger', ledgerRoutes(runtime, audits));
  app.route('/generator', generatorRoutes(runtime));
  app.route('/events', eventRoutes(runtime));
  app.route('/vms', vmRoutes(runtime));
  app.route('/queue', queueRoutes(runtime));
  app.route('/', tlogRoutes(runtime));

  const openapi = openApiDocument({
    runtime: 'local',
    dimensions: config.dimensions,
    algorithms: options.algorithms,
    token: config.token !== undefined,
    maxBodyBytes: config.max_body_bytes,
  });
  app.get('/openapi.json', (c) => c.json(openapi));

  app.get('*', (c) => {
    const asset = options.assets.get(c.req.path);
    if (!asset) return unrouted(c);
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': asset.type });
  });

  return app;
}
