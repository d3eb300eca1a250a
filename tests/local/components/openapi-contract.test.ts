import type { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { apiApp, SERVED_BY_OTHER_FUNCTIONS } from '../../../functions/handlers/api';
import { MemoryTaskAcceptances } from '../../../lib/adapters/memory/memory-task-acceptances';
import { ManualClock } from '../../../lib/ports/clock';
import { algorithmNames } from '../../../lib/scheduling/registry';
import { type OpenApiOptions, openApiDocument, servedRoutes } from '../../../lib/schemas/openapi';
import { errorBodySchema } from '../../../lib/schemas/responses';
import { honoPath, type RouteSpec } from '../../../lib/schemas/routes';
import { MemoryCompletionQueue } from '../../unit/functions/helpers/completion-queue';
import { DIMENSIONS, ledger, RecordingLogger, task, vm } from '../../unit/functions/helpers/fixtures';
import { inProcessRuntime } from '../helpers/in-process-runtime';

/**
 * The route table (lib/schemas/routes.ts) against both runtimes: each serves exactly the routes the
 * table gives it, every live answer parses with the schema the document states for its status, a
 * known path asked with another method is a 405 naming the right methods, and the links lead to
 * operations that exist with the parameters they take.
 */

const dimensions = ['cpu', 'mem', 'io', 'bw'];
const localOptions = (token: boolean): OpenApiOptions => ({
  runtime: 'local',
  dimensions,
  algorithms: algorithmNames(),
  token,
  maxBodyBytes: 1_000_000,
});

let closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers) await close();
  closers = [];
});

function local(config: Record<string, unknown> = {}) {
  const built = inProcessRuntime(config);
  closers.push(() => built.store.close());
  return built;
}

/** Parses `response` with the schema `route` documents for its status (the shared error body for 4xx/5xx). */
async function expectDocumented(
  route: RouteSpec,
  response: Response,
  documented: Record<string, unknown>,
): Promise<unknown> {
  const label = `${route.method.toUpperCase()} ${route.path} -> ${response.status}`;
  expect(Object.keys(documented), label).toContain(String(response.status));
  const spec = route.responses[response.status];
  if (response.status >= 400 && !spec?.schema) {
    const parsed = errorBodySchema.safeParse(await response.json());
    expect(parsed.error?.issues ?? [], label).toEqual([]);
    return parsed.data;
  }
  if (spec?.contentType) {
    expect(response.headers.get('content-type'), label).toContain(spec.contentType);
    return undefined;
  }
  const parsed = spec!.schema!.safeParse(await response.json());
  expect(parsed.error?.issues ?? [], label).toEqual([]);
  return parsed.data;
}

type Paths = Record<string, Record<string, { responses: Record<string, unknown> }>>;

function request(
  app: Hono,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  return app.request(path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

describe('the local runtime against its OpenAPI document', () => {
  it('serves exactly the routes of the table', () => {
    const { app } = local();
    const served = new Set(
      app.routes
        .filter((r) => r.method !== 'ALL' && !r.path.endsWith('*'))
        .map((r) => `${r.method} ${r.path}`),
    );
    const documented = new Set(
      servedRoutes(localOptions(false)).map((r) => `${r.method.toUpperCase()} ${honoPath(r.path)}`),
    );
    expect([...served].sort()).toEqual([...documented].sort());
  });

  it('answers every route with the body its document states, in success and in error', async () => {
    const { app, rt, engine, queue } = local();
    const doc = openApiDocument(localOptions(false)) as { paths: Paths };
    const routes = servedRoutes(localOptions(false));
    const route = (operationId: string) => routes.find((r) => r.operationId === operationId)!;
    const check = async (operationId: string, method: string, path: string, body?: unknown) => {
      const r = route(operationId);
      const response = await request(app, method, path, body);
      return expectDocumented(r, response, doc.paths[r.path]![r.method]!.responses);
    };
    const deadline = Math.floor(Date.parse('2026-11-22T00:00:00Z') / 1000);
    // Prepare: a queued task, then a decided one with a transaction, then one too big for any VM.
    await check('submitTasks', 'POST', '/tasks', [
      { id: 'c-1', cpu: 100, deadline, duration: 600 },
      { id: 'c-2', cpu: 1e9, deadline, duration: 600 },
    ]);
    await check('getTask', 'GET', '/tasks/c-1');
    const received = await queue.receive(10);
    await engine.schedule(received.map((r) => r.task));
    await queue.ack(received.map((r) => r.receipt));
    const status = (await check('getTask', 'GET', '/tasks/c-1')) as {
      transaction_id: string;
      vm_id: string;
    };
    await check('getTask', 'GET', '/tasks/c-2');
    await check('getTask', 'GET', '/tasks/nobody');
    await check('getTask', 'GET', '/tasks/%20bad');
    await check('getTransaction', 'GET', `/ledger/transactions/${status.transaction_id}`);
    await check('getTransaction', 'GET', '/ledger/transactions/0123');
    await check('completeTask', 'POST', '/tasks/c-1/complete');
    await check('completeTask', 'POST', '/tasks/c-1/complete');
    await check('completeTask', 'POST', '/tasks/nobody/complete');
    await check('submitTasks', 'POST', '/tasks', { cpu: -1 });
    await check('submitTasks', 'POST', '/tasks', { deadline, duration: 1 });
    await check('getFleet', 'GET', '/fleet');
    await check('getAutoscaling', 'GET', '/fleet/autoscaling');
    const added = (await check('addVms', 'POST', '/fleet/vms', {
      count: 2,
      managed: 'agent',
      labels: { zone: 'b' },
    })) as { added: string[] };
    await check('addVms', 'POST', '/fleet/vms', { count: 0 });
    await check('getAssignments', 'GET', `/vms/${added.added[0]}/assignments`);
    await check('getAssignments', 'GET', `/vms/${added.added[0]}/assignments?wait=31`);
    await check('getAssignments', 'GET', '/vms/nobody/assignments');
    await check('drainVm', 'POST', `/fleet/vms/${status.vm_id}/drain`);
    await check('drainVm', 'POST', '/fleet/vms/nobody/drain');
    await check('getConfig', 'GET', '/config');
    await check('setAlgorithm', 'PUT', '/config/algorithm', { algorithm: 'p2c', params: { alpha: 0.5 } });
    await check('setAlgorithm', 'PUT', '/config/algorithm', { algorithm: 'nope' });
    await check('getLedger', 'GET', '/ledger');
    await check('getBlocks', 'GET', '/ledger/blocks?from=0&limit=100');
    await check('getBlocks', 'GET', '/ledger/blocks?limit=0');
    await check('getDigest', 'GET', '/ledger/digest');
    await check('getDigest', 'GET', '/ledger/digest?signed=maybe');
    await check('getDigest', 'GET', '/ledger/digest?signed=1');
    await check('getPublicKey', 'GET', '/ledger/public-key');
    await check('getCheckpoint', 'GET', '/checkpoint');
    await check('getTlog', 'GET', '/ledger/tlog');
    await check('verifyLedger', 'POST', '/ledger/verify');
    await check('exportLedger', 'GET', '/ledger/export');
    await check('getGenerator', 'GET', '/generator');
    await check('updateGenerator', 'POST', '/generator', { rate: 5 });
    await check('updateGenerator', 'POST', '/generator', { rate: -5 });
    await check('getOpenApi', 'GET', '/openapi.json');
    expect((await rt.taskStatus('c-1'))?.status).toBe('completed');
  });

  it('documents a JSON body as required, 415 without it, and the refusals with Retry-After', async () => {
    const { app } = local();
    const doc = openApiDocument(localOptions(false)) as {
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { required: boolean }; responses: Record<string, { headers?: object }> }
        >
      >;
    };
    const submit = doc.paths['/tasks']!.post!;
    expect(submit.requestBody?.required).toBe(true);
    expect(Object.keys(submit.responses)).toEqual(
      expect.arrayContaining(['202', '400', '413', '415', '429', '503']),
    );
    expect(submit.responses['429']!.headers).toHaveProperty('Retry-After');
    const response = await app.request('/tasks', { method: 'POST' });
    expect(response.status).toBe(415);
    expect(errorBodySchema.parse(await response.json()).error).toBe('UnsupportedMediaType');
  });

  it('states the rules JSON Schema can carry: a resource required, algorithm names, id patterns, numeric query bounds', () => {
    // As a client reads it: JSON, walked without types.
    const doc = JSON.parse(JSON.stringify(openApiDocument(localOptions(false))));
    const taskSchema = doc.paths['/tasks']!.post!.requestBody.content['application/json'].schema.anyOf[0];
    expect(taskSchema.anyOf).toEqual(dimensions.map((d) => ({ required: [d] })));
    expect(taskSchema.properties.labels.maxProperties).toBe(32);
    const change = doc.paths['/config/algorithm']!.put!.requestBody.content['application/json'].schema;
    expect(change.properties.algorithm.enum).toEqual(algorithmNames());
    const taskId = doc.paths['/tasks/{id}']!.get!.parameters[0];
    expect(taskId).toMatchObject({ name: 'id', in: 'path', required: true, schema: { type: 'string' } });
    expect(new RegExp(taskId.schema.pattern).test('t-1')).toBe(true);
    expect(new RegExp(taskId.schema.pattern).test(' t')).toBe(false);
    const limit = doc.paths['/ledger/blocks']!.get!.parameters.find(
      (p: { name: string }) => p.name === 'limit',
    );
    expect(limit).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: 100 },
    });
  });

  it('answers 405 with Allow for a known path and another method, 404 for an unknown path', async () => {
    const { app } = local();
    const cases: [string, string, string][] = [
      ['DELETE', '/tasks', 'POST'],
      ['GET', '/tasks', 'POST'],
      ['PUT', '/tasks/t-1', 'GET, HEAD'],
      ['GET', '/tasks/t-1/complete', 'POST'],
      ['POST', '/ledger', 'GET, HEAD'],
      ['PATCH', '/generator', 'GET, HEAD, POST'],
      ['GET', '/config/algorithm', 'PUT'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await app.request(path, { method });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get('allow')).toBe(allow);
      expect(errorBodySchema.parse(await response.json())).toMatchObject({ error: 'MethodNotAllowed' });
    }
    for (const [method, path] of [
      ['GET', '/no/such/route'],
      ['DELETE', '/no/such/route'],
      ['GET', '/tasks/a/b/c'],
    ] as const) {
      expect((await app.request(path, { method })).status, `${method} ${path}`).toBe(404);
    }
  });

  it('with a token, documents 401 on protected routes and answers it with a message', async () => {
    const { app } = local({ token: 'contract-token-1' });
    const doc = openApiDocument(localOptions(true)) as {
      paths: Paths & Record<string, Record<string, { security?: unknown }>>;
    };
    for (const route of servedRoutes(localOptions(true))) {
      const operation = doc.paths[route.path]![route.method]! as { security?: unknown; responses: object };
      expect(Object.hasOwn(operation.responses, '401'), route.operationId).toBe(route.auth !== undefined);
      expect(operation.security !== undefined, route.operationId).toBe(route.auth !== undefined);
    }
    for (const [headers, fragment] of [
      [{}, 'Authorization: Bearer'],
      [{ authorization: 'Bearer wrong-token-9' }, 'wrong'],
    ] as const) {
      const response = await request(app, 'POST', '/fleet/vms', { count: 1 }, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      const body = errorBodySchema.parse(await response.json());
      expect(body).toMatchObject({ error: 'Unauthorized' });
      expect(body.message).toContain(fragment);
    }
    const agentFeed = await app.request('/vms/vm-001/assignments');
    expect(agentFeed.status).toBe(401);
    expect(errorBodySchema.parse(await agentFeed.json()).message.length).toBeGreaterThan(0);
  });

  it('links only to operations it serves, with the parameters they take', () => {
    for (const runtime of ['local', 'aws'] as const) {
      const options = { ...localOptions(true), runtime };
      const doc = openApiDocument(options) as {
        paths: Record<
          string,
          Record<
            string,
            {
              operationId: string;
              parameters?: { name: string }[];
              responses: Record<
                string,
                { links?: Record<string, { operationId: string; parameters: object }> }
              >;
            }
          >
        >;
      };
      const operations = new Map(
        Object.values(doc.paths).flatMap((methods) =>
          Object.values(methods).map((op) => [op.operationId, op] as const),
        ),
      );
      let links = 0;
      for (const op of operations.values()) {
        for (const response of Object.values(op.responses)) {
          for (const link of Object.values(response.links ?? {})) {
            links++;
            const target = operations.get(link.operationId);
            expect(target, `${op.operationId} -> ${link.operationId}`).toBeDefined();
            for (const name of Object.keys(link.parameters)) {
              expect(
                target!.parameters?.map((p) => p.name),
                `${op.operationId} -> ${link.operationId}`,
              ).toContain(name);
            }
          }
        }
      }
      expect(links, runtime).toBeGreaterThanOrEqual(runtime === 'local' ? 8 : 5);
    }
  });
});

describe('the AWS API function against its OpenAPI document', () => {
  async function aws(withFleet: boolean) {
    const vms = [vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })];
    const { store, engine } = ledger(vms);
    await engine.schedule([
      task('a', { cpu: 500, mem: 100, io: 0, bw: 0 }),
      task('huge', { cpu: 9999, mem: 1, io: 0, bw: 0 }),
    ]);
    const fleet = {
      source: { listVms: async () => vms, invalidate: () => {} },
      drain: async () => {},
    };
    const app = apiApp({
      store: () => store,
      completions: new MemoryCompletionQueue(new ManualClock(0)),
      acceptances: new MemoryTaskAcceptances(),
      dimensions: DIMENSIONS,
      logger: new RecordingLogger(),
      ...(withFleet ? { fleet: fleet as never } : {}),
    });
    const options: OpenApiOptions = {
      runtime: 'aws',
      dimensions: DIMENSIONS,
      algorithms: [],
      token: false,
      serves: (r) => withFleet || !r.path.startsWith('/fleet'),
    };
    return { app, store, options };
  }

  it('serves the routes of the table and its own document', async () => {
    for (const withFleet of [true, false]) {
      const { app, options } = await aws(withFleet);
      const served = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`);
      // The gateway's document; POST /tasks and POST /ledger/verify are other functions'.
      const documented = servedRoutes(options)
        .filter((r) => !SERVED_BY_OTHER_FUNCTIONS.has(r.operationId))
        .map((r) => `${r.method.toUpperCase()} ${honoPath(r.path)}`);
      expect([...new Set(served)].sort()).toEqual([...new Set(documented)].sort());
      expect(servedRoutes(options).filter((r) => SERVED_BY_OTHER_FUNCTIONS.has(r.operationId))).toHaveLength(
        2,
      );
      const served_doc = await (await app.request('/openapi.json')).json();
      expect(served_doc).toEqual(JSON.parse(JSON.stringify(openApiDocument(options))));
    }
  });

  it('answers with the bodies its document states, and 405 with Allow', async () => {
    const { app, store, options } = await aws(true);
    const doc = openApiDocument(options) as { paths: Paths };
    const routes = servedRoutes(options);
    const check = async (operationId: string, method: string, path: string) => {
      const r = routes.find((x) => x.operationId === operationId)!;
      const response = await request(app, method, path);
      return expectDocumented(r, response, doc.paths[r.path]![r.method]!.responses);
    };
    const record = (await store.getTask('a'))!;
    await check('getTask', 'GET', '/tasks/a');
    await check('getTask', 'GET', '/tasks/huge');
    await check('getTask', 'GET', '/tasks/nobody');
    await check('getTransaction', 'GET', `/ledger/transactions/${record.transaction_id}`);
    await check('completeTask', 'POST', '/tasks/a/complete');
    await check('completeTask', 'POST', '/tasks/a/complete');
    await check('completeTask', 'POST', '/tasks/nobody/complete');
    await check('getLedger', 'GET', '/ledger');
    await check('getBlocks', 'GET', '/ledger/blocks?limit=5');
    await check('getBlocks', 'GET', '/ledger/blocks?limit=x');
    await check('getDigest', 'GET', '/ledger/digest');
    await check('getFleet', 'GET', '/fleet');
    await check('drainVm', 'POST', '/fleet/vms/vm-a/drain');
    await check('drainVm', 'POST', '/fleet/vms/nobody/drain');
    const wrong = await app.request('/ledger/blocks', { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
  });

  it('pages GET /fleet as the local runtime does, refusing a limit out of range naming it', async () => {
    const { app } = await aws(true);
    for (const query of ['limit=1001', 'limit=0', 'limit=null', 'after=no%20such']) {
      const refused = await request(app, 'GET', `/fleet?${query}`);
      expect(refused.status, query).toBe(400);
      expect(JSON.stringify(await refused.json())).toMatch(/"field":"(limit|after)"/);
    }
    const page = await (await request(app, 'GET', '/fleet?limit=1')).json();
    expect(page).toMatchObject({ total: 1, next: null, vms: [{ id: 'vm-a' }] });
  });

  it('declares that the gateway authorises every request: SigV4, or an API key in api-key mode', async () => {
    const { options } = await aws(true);
    for (const [mode, scheme, header] of [
      ['iam', 'sigv4', 'Authorization'],
      ['api-key', 'apiKey', 'x-api-key'],
    ] as const) {
      const doc = openApiDocument({ ...options, authMode: mode }) as {
        security: object[];
        components: { securitySchemes: Record<string, { name: string }> };
        paths: Paths;
      };
      expect(doc.security).toEqual([{ [scheme]: [] }]);
      expect(doc.components.securitySchemes[scheme]).toMatchObject({
        type: 'apiKey',
        in: 'header',
        name: header,
      });
      for (const [path, methods] of Object.entries(doc.paths))
        for (const [method, op] of Object.entries(methods))
          expect(Object.keys(op.responses), `${method} ${path}`).toEqual(
            expect.arrayContaining(['403', '429']),
          );
    }
  });
});

describe('resource amounts in both documents', () => {
  it('state the 6-decimal rule on every requirement and capacity field (README and docs/local.md say it too)', () => {
    for (const runtime of ['local', 'aws'] as const) {
      const doc = JSON.stringify(
        openApiDocument({
          ...localOptions(false),
          runtime,
          ...(runtime === 'aws' ? { maxBodyBytes: undefined } : {}),
        }),
      );
      const described = (
        JSON.parse(doc) as {
          paths: Record<
            string,
            Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
          >;
        }
      ).paths;
      const bodies = [
        described['/tasks']!.post!,
        ...(runtime === 'local' ? [described['/fleet/vms']!.post!] : []),
      ];
      for (const op of bodies) {
        const text = JSON.stringify(op.requestBody!.content['application/json']!.schema);
        for (const d of dimensions) {
          const fields = [...text.matchAll(new RegExp(`"${d}":\\{[^}]*\\}`, 'g'))].map((m) => m[0]);
          expect(fields.length, `${runtime} ${d}`).toBeGreaterThan(0);
          for (const f of fields) expect(f).toMatch(/at most 6 decimal places/);
        }
      }
    }
  });
});
