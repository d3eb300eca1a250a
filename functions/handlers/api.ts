import { Hono } from 'hono';
import { schedulerApi } from '../../http/api';
import { errorHandler, noRoute } from '../../http/errors';
import { type FleetControl, fleetRoutes } from '../../http/fleet';
import { queueCompletion } from '../../lib/engine/completions';
import { LedgerReader } from '../../lib/engine/ledger-reader';
import { readTaskStatus } from '../../lib/engine/task-intake';
import { CHECKPOINT_CACHE_CONTROL, CHECKPOINT_OBJECT } from '../../lib/engine/tlog-publisher';
import { NotFoundError } from '../../lib/errors';
import type { Dimensions } from '../../lib/model/resources';
import type { AuditJobStore } from '../../lib/ports/audit-jobs';
import type { CompletionSender } from '../../lib/ports/completion-sender';
import type { LedgerStore } from '../../lib/ports/ledger-store';
import type { ObjectStore } from '../../lib/ports/object-store';
import type { LogSink } from '../../lib/ports/observability';
import type { TaskAcceptances } from '../../lib/ports/task-acceptances';
import { openApiDocument, servedRoutes } from '../../lib/schemas/openapi';
import { completeBody } from '../../lib/schemas/views';

export interface ApiDeps {
  store: () => LedgerStore | Promise<LedgerStore>;
  /**
   * Where POST /tasks/{id}/complete sends an assigned task's completion: the completion queue, which
   * the lease closer consumes. This function never writes the chain (its role may not).
   */
  completions: CompletionSender;
  /** The enqueue function's acceptance records: GET /tasks/{id} answers `queued` from them. */
  acceptances: Pick<TaskAcceptances, 'get'>;
  dimensions: Dimensions;
  logger: LogSink;
  /** Where the log publisher writes the checkpoint (the log bucket); without it GET /checkpoint is a 404. */
  log?: ObjectStore;
  /** GET /fleet and POST /fleet/vms/{id}/drain; without it those routes do not exist. */
  fleet?: FleetControl;
  /** How the gateway authorises requests (the stack's authMode), for /openapi.json. Default iam. */
  authMode?: 'iam' | 'api-key';
  /** Full re-audits (AUDIT# items) for GET /ledger/verify/{id}; without it every job is unknown. */
  audits?: Pick<AuditJobStore, 'get'>;
}

export type { FleetControl };

/** Operations of the gateway's document that other functions serve: enqueue and verify. */
export const SERVED_BY_OTHER_FUNCTIONS: ReadonlySet<string> = new Set(['submitTasks', 'verifyLedger']);

/**
 * Task and ledger reads plus task completion (queued for the lease closer) through the routes both
 * runtimes share (http/api.ts), and the EC2 fleet when there is one. The ledger reader lives as long as the warm container and
 * reads only the blocks appended since the last request.
 */
export function apiApp(deps: ApiDeps): Hono {
  const app = new Hono();
  let reader: LedgerReader | undefined;
  const ledger = async () => {
    reader ??= new LedgerReader(await deps.store(), { pageSize: 100 });
    return reader;
  };

  app.route(
    '/',
    schedulerApi({
      taskStatus: async (id) => {
        const reader = await ledger();
        return readTaskStatus(id, { ledger: (taskId) => reader.task(taskId), acceptances: deps.acceptances });
      },
      complete: async (id, outcome) =>
        completeBody(
          id,
          await queueCompletion(
            { tasks: await deps.store(), sender: deps.completions },
            { task_id: id, body: outcome ? { outcome } : {} },
            'api',
          ),
        ),
      ledger,
      store: async () => deps.store(),
      auditJob: async (id) => (deps.audits ? deps.audits.get(id) : null),
    }),
  );

  // The signed checkpoint the publish-log function last wrote to the log bucket (docs/ledger-format.md section 12).
  app.get('/checkpoint', async (c) => {
    const note = deps.log ? await deps.log.get(CHECKPOINT_OBJECT) : null;
    if (!note)
      throw new NotFoundError('no checkpoint published yet (the transparency log is off or has not run)');
    return c.body(Buffer.from(note).toString('utf8'), 200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': CHECKPOINT_CACHE_CONTROL,
    });
  });

  const { fleet } = deps;
  if (fleet) app.route('/', fleetRoutes({ fleet, store: deps.store, dimensions: deps.dimensions }));

  // The document of the gateway's API: the routes of this function, POST /tasks (the enqueue
  // function) and POST /ledger/verify (the verify function).
  const docOptions = {
    runtime: 'aws' as const,
    dimensions: deps.dimensions,
    algorithms: [],
    token: false,
    authMode: deps.authMode ?? 'iam',
    serves: (route: { path: string }) => fleet !== undefined || !route.path.startsWith('/fleet'),
  };
  const openapi = openApiDocument(docOptions);
  const routes = servedRoutes(docOptions);
  app.get('/openapi.json', (c) => c.json(openapi));

  app.notFound(noRoute(routes));
  app.onError(
    errorHandler((_, { kind, ...detail }) =>
      kind === 'internal'
        ? deps.logger.error('request failed', detail)
        : deps.logger.warn('store unavailable', detail),
    ),
  );
  return app;
}
