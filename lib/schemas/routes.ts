import * as z from 'zod';
import { digestConsistencySchema } from '../ledger/digest';
import { DEFAULT_DIMENSIONS, type Dimensions } from '../model/resources';
import {
  assignmentsQuerySchema,
  auditJobPathSchema,
  blocksQuerySchema,
  completeBodySchema,
  consistencyQuerySchema,
  deadLettersQuerySchema,
  digestQuerySchema,
  fleetQuerySchema,
  taskPathSchema,
  transactionPathSchema,
  verifyBodySchema,
  vmPathSchema,
} from './api';
import { addVmsSchema, algorithmChangeSchema, generatorPatchSchema } from './http';
import {
  addVmsResponseSchema,
  assignmentsResponseSchema,
  auditJobResponseSchema,
  autoscaleResponseSchema,
  blocksPageResponseSchema,
  completeResponseSchema,
  configResponseSchema,
  conflictErrorBodySchema,
  deadLettersResponseSchema,
  digestResponseSchema,
  digestSchema,
  drainResponseSchema,
  fleetResponseSchema,
  generatorStateSchema,
  ledgerSummaryResponseSchema,
  limitErrorBodySchema,
  queueResponseSchema,
  submitResponseSchema,
  taskStatusResponseSchema,
  tlogResponseSchema,
  transactionProofSchema,
  verifyResponseSchema,
} from './responses';
import { MAX_TASKS_PER_REQUEST, taskInputSchema } from './task-input';

/**
 * Every route of the HTTP API as data: method, path, parameters, body and responses, each as the zod
 * schema the server validates or answers with. The OpenAPI document (lib/schemas/openapi.ts) is
 * generated from this table, the 405 answers take their `Allow` header from it, and the contract
 * tests check that each runtime serves exactly the routes the table gives it. A route added to a
 * runtime is added here too (tests/unit/schemas/routes.test.ts fails otherwise).
 *
 * Hand-written rather than @hono/zod-openapi's createRoute: lib/ imports no HTTP framework, and
 * the routes of both runtimes keep their own handlers (and error bodies) while reading their
 * schemas from here.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** Which runtime serves a route: the local server (runtime/http) and/or the AWS API function. */
export type Runtime = 'local' | 'aws';

export interface ResponseSpec {
  description: string;
  /** JSON body schema; omitted with `contentType` for a non-JSON body. */
  schema?: z.ZodType;
  /** Defaults to application/json. */
  contentType?: string;
  /** Response headers the client may rely on, by name. */
  headers?: Record<string, { description: string; schema: object }>;
}

export interface LinkSpec {
  /** operationId of the operation the link leads to. */
  operationId: string;
  /** Its parameters as OpenAPI runtime expressions, e.g. `$response.body#/accepted/0`. */
  parameters: Record<string, string>;
  description: string;
  /** The response status the link is on; the route's first 2xx when omitted. */
  status?: number;
}

export interface RouteSpec {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI path template: `/tasks/{id}` (Hono writes `/tasks/:id`). */
  path: string;
  summary: string;
  servedBy: readonly Runtime[];
  /** 'writes': needs the bearer token when one is configured (mutating routes); 'always': every request. */
  auth?: 'writes' | 'always';
  pathParams?: z.ZodObject;
  query?: z.ZodObject;
  /** JSON body, required unless `bodyOptional`. */
  body?: z.ZodType;
  /** The body may be left out (an empty request body). */
  bodyOptional?: boolean;
  /** Success and route-specific error responses; the shared errors (400, 401, 413, 415, 429, 503) are added by the generator from the fields above and `refusals`. */
  responses: Record<number, ResponseSpec>;
  /** Statuses the route answers when it cannot take the request now (429 queue full, 503 store busy). */
  refusals?: readonly (429 | 503)[];
  /** Links from the first 2xx response. */
  links?: Record<string, LinkSpec>;
}

export interface RouteContext {
  dimensions: Dimensions;
  /** The registered algorithm names. */
  algorithms: readonly string[];
}

const notFound = (what: string): ResponseSpec => ({ description: `No such ${what}` });

/** The API's routes for a dimension set and algorithm registry. */
export function apiRoutes(context: RouteContext): RouteSpec[] {
  const dimensions = context.dimensions.length > 0 ? context.dimensions : DEFAULT_DIMENSIONS;
  // JSON Schema cannot say "at least one of these optional fields", except as this anyOf.
  const task = taskInputSchema(dimensions).meta({ anyOf: dimensions.map((d) => ({ required: [d] })) });
  return [
    {
      operationId: 'submitTasks',
      method: 'post',
      path: '/tasks',
      summary: 'Submit one task or an array of tasks (idempotent by id)',
      servedBy: ['local', 'aws'],
      auth: 'writes',
      body: z.union([task, z.array(task).min(1).max(MAX_TASKS_PER_REQUEST)]),
      responses: {
        202: { description: 'Queued (or already known with the same body)', schema: submitResponseSchema },
        409: {
          description:
            'An id was already submitted (or repeated in this request) with a different body; nothing was queued',
          schema: conflictErrorBodySchema,
        },
      },
      refusals: [429, 503],
      links: {
        GetTask: {
          operationId: 'getTask',
          parameters: { id: '$response.body#/accepted/0' },
          description: 'The status of the first task queued',
        },
      },
    },
    {
      operationId: 'getTask',
      method: 'get',
      path: '/tasks/{id}',
      summary: 'Status of a task: queued, assigned, rejected, completed, failed or expired',
      servedBy: ['local', 'aws'],
      pathParams: taskPathSchema,
      responses: {
        200: { description: 'The task', schema: taskStatusResponseSchema },
        404: notFound('task'),
      },
      links: {
        GetTransaction: {
          operationId: 'getTransaction',
          parameters: { id: '$response.body#/transaction_id' },
          description: "The task's latest transaction with its inclusion proof",
        },
        CompleteTask: {
          operationId: 'completeTask',
          parameters: { id: '$response.body#/task_id' },
          description: 'Report the task as completed',
        },
      },
    },
    {
      operationId: 'completeTask',
      method: 'post',
      path: '/tasks/{id}/complete',
      summary:
        'Record how an assigned task ended: completed, or failed when the outcome has a non-zero exit code or a signal (AWS: queued for recording, 202; a repeat after it is recorded is answered already-final)',
      servedBy: ['local', 'aws'],
      auth: 'writes',
      pathParams: taskPathSchema,
      body: completeBodySchema,
      bodyOptional: true,
      responses: {
        200: { description: 'Closed, or already final', schema: completeResponseSchema },
        202: {
          description:
            'Accepted: queued for recording (AWS); GET /tasks/{id} shows completed once it is committed',
          schema: completeResponseSchema,
        },
        404: notFound('assigned task'),
      },
      links: {
        GetTask: {
          operationId: 'getTask',
          parameters: { id: '$response.body#/task_id' },
          description: 'The task after its completion',
        },
      },
    },
    {
      operationId: 'getFleet',
      method: 'get',
      path: '/fleet',
      summary:
        'VMs with capacity, reservations and usage; quarantined ones say why; pages of at most 1000 in id order',
      servedBy: ['local', 'aws'],
      query: fleetQuerySchema,
      responses: { 200: { description: 'The fleet', schema: fleetResponseSchema } },
      links: {
        DrainVm: {
          operationId: 'drainVm',
          parameters: { id: '$response.body#/vms/0/id' },
          description: 'Drain the first VM',
        },
      },
    },
    {
      operationId: 'getAutoscaling',
      method: 'get',
      path: '/fleet/autoscaling',
      summary: 'Autoscaling settings and, while on, its state (fleet size, backlog per VM, actions)',
      servedBy: ['local'],
      responses: { 200: { description: 'Autoscaling', schema: autoscaleResponseSchema } },
    },
    {
      operationId: 'addVms',
      method: 'post',
      path: '/fleet/vms',
      summary: 'Add simulated VMs',
      servedBy: ['local'],
      auth: 'writes',
      body: addVmsSchema(dimensions),
      responses: {
        201: { description: 'The ids of the VMs added', schema: addVmsResponseSchema },
        409: { description: 'Would pass max_fleet_size; nothing added', schema: limitErrorBodySchema },
      },
      links: {
        DrainVm: {
          operationId: 'drainVm',
          parameters: { id: '$response.body#/added/0' },
          description: 'Drain the first VM added',
        },
        GetAssignments: {
          operationId: 'getAssignments',
          parameters: { id: '$response.body#/added/0' },
          description: 'The assignments of the first VM added',
        },
      },
    },
    {
      operationId: 'drainVm',
      method: 'post',
      path: '/fleet/vms/{id}/drain',
      summary: 'Stop placing tasks on a VM; it leaves once empty',
      servedBy: ['local', 'aws'],
      auth: 'writes',
      pathParams: vmPathSchema,
      responses: { 200: { description: 'Draining', schema: drainResponseSchema }, 404: notFound('VM') },
    },
    {
      operationId: 'getAssignments',
      method: 'get',
      path: '/vms/{id}/assignments',
      summary:
        "An agent-managed VM's open assignments (task, transaction, block, command, duration, lease end); long poll with wait",
      servedBy: ['local'],
      auth: 'always',
      pathParams: vmPathSchema,
      query: assignmentsQuerySchema,
      responses: {
        200: { description: 'Open assignments', schema: assignmentsResponseSchema },
        404: notFound('VM'),
      },
    },
    {
      operationId: 'getConfig',
      method: 'get',
      path: '/config',
      summary: 'Dimensions, units, algorithm, parameters, autoscaling',
      servedBy: ['local'],
      responses: { 200: { description: 'The configuration', schema: configResponseSchema } },
    },
    {
      operationId: 'setAlgorithm',
      method: 'put',
      path: '/config/algorithm',
      summary: 'Switch the placement algorithm at run time',
      servedBy: ['local'],
      auth: 'writes',
      body: algorithmChangeSchema(context.algorithms),
      responses: { 200: { description: 'The configuration after the change', schema: configResponseSchema } },
    },
    {
      operationId: 'getLedger',
      method: 'get',
      path: '/ledger',
      summary: 'Head, transaction count and per-VM statistics',
      servedBy: ['local', 'aws'],
      responses: { 200: { description: 'Ledger summary', schema: ledgerSummaryResponseSchema } },
    },
    {
      operationId: 'getBlocks',
      method: 'get',
      path: '/ledger/blocks',
      summary: 'Blocks from a height, at most 100',
      servedBy: ['local', 'aws'],
      query: blocksQuerySchema,
      responses: { 200: { description: 'A page of blocks', schema: blocksPageResponseSchema } },
      links: {
        GetTransaction: {
          operationId: 'getTransaction',
          parameters: { id: '$response.body#/blocks/0/transactions/0/transaction_id' },
          description: 'The first transaction of the page with its inclusion proof',
        },
      },
    },
    {
      operationId: 'getTransaction',
      method: 'get',
      path: '/ledger/transactions/{id}',
      summary: 'A transaction with its RFC 9162 inclusion proof against the current digest',
      servedBy: ['local', 'aws'],
      pathParams: transactionPathSchema,
      responses: {
        200: { description: 'Transaction and inclusion proof', schema: transactionProofSchema },
        404: notFound('transaction'),
      },
      links: {
        GetTask: {
          operationId: 'getTask',
          parameters: { id: '$response.body#/transaction/task_id' },
          description: "The transaction's task",
        },
      },
    },
    {
      operationId: 'getDigest',
      method: 'get',
      path: '/ledger/digest',
      summary: 'The digest an auditor keeps; signed=1 signs it (docs/ledger-format.md section 10)',
      servedBy: ['local'],
      query: digestQuerySchema,
      responses: {
        200: { description: 'Digest, or signed digest', schema: digestResponseSchema },
        404: { description: 'signed=1 on a runtime without a signing key' },
      },
    },
    {
      operationId: 'getDigest',
      method: 'get',
      path: '/ledger/digest',
      summary: 'The digest an auditor keeps (the verify function signs one on its schedule, docs/aws.md)',
      servedBy: ['aws'],
      responses: { 200: { description: 'Digest', schema: digestSchema } },
    },
    {
      operationId: 'getConsistency',
      method: 'get',
      path: '/ledger/consistency',
      summary:
        'RFC 9162 consistency proof between the digests at tree sizes from and to (docs/ledger-format.md section 7.2)',
      servedBy: ['local', 'aws'],
      query: consistencyQuerySchema,
      responses: {
        200: { description: 'The two digests and the proof', schema: digestConsistencySchema },
      },
    },
    {
      operationId: 'getCheckpoint',
      method: 'get',
      path: '/checkpoint',
      summary:
        'The signed C2SP checkpoint of the block-hash tree, with witness cosignatures (docs/ledger-format.md section 12); the tiles are under /tile/ (tlog-tiles)',
      servedBy: ['local', 'aws'],
      responses: {
        200: { description: 'Signed note (text)', contentType: 'text/plain' },
        404: { description: 'This runtime publishes no checkpoints' },
      },
    },
    {
      operationId: 'getTlog',
      method: 'get',
      path: '/ledger/tlog',
      summary:
        "The transparency log's origin, verifier keys and witness status (docs/ledger-format.md section 12)",
      servedBy: ['local'],
      responses: {
        200: { description: 'Origin, verifier keys, witnesses', schema: tlogResponseSchema },
        404: { description: 'This runtime publishes no checkpoints' },
      },
    },
    {
      operationId: 'getPublicKey',
      method: 'get',
      path: '/ledger/public-key',
      summary: 'The public key (SPKI PEM) that checks signed digests',
      servedBy: ['local'],
      responses: {
        200: { description: 'SPKI PEM', contentType: 'application/x-pem-file' },
        404: { description: 'This runtime signs no digests' },
      },
    },
    {
      operationId: 'verifyLedger',
      method: 'post',
      path: '/ledger/verify',
      summary:
        'Verify the chain (reads only: no token needed). Without a body, or with {"full": false}: only the blocks since the last verified checkpoint (on AWS within a time budget, resuming where the last run stopped), held to the latest signed digest. With {"full": true}: a full re-audit in the background, split into block ranges verified in parallel, answered at once with 202 and its job',
      servedBy: ['local', 'aws'],
      body: verifyBodySchema,
      bodyOptional: true,
      responses: {
        200: { description: 'Verification report', schema: verifyResponseSchema },
        202: {
          description: 'Full re-audit started: poll GET /ledger/verify/{id} with its job_id',
          schema: auditJobResponseSchema,
        },
      },
      links: {
        getAuditJob: {
          operationId: 'getAuditJob',
          parameters: { id: '$response.body#/job_id' },
          description: 'The state of the full re-audit this request started',
          status: 202,
        },
      },
    },
    {
      operationId: 'getAuditJob',
      method: 'get',
      path: '/ledger/verify/{id}',
      summary:
        "A full re-audit's job: running, done (with the report and, when valid, the verified head's digest, signed on AWS), or failed (the audit could not finish)",
      servedBy: ['local', 'aws'],
      pathParams: auditJobPathSchema,
      responses: {
        200: { description: 'Audit job', schema: auditJobResponseSchema },
        404: notFound('audit job'),
      },
    },
    {
      operationId: 'exportLedger',
      method: 'get',
      path: '/ledger/export',
      summary: 'The chain as JSON Lines, one canonical block per line',
      servedBy: ['local'],
      responses: { 200: { description: 'Blocks', contentType: 'application/x-ndjson' } },
    },
    {
      operationId: 'getGenerator',
      method: 'get',
      path: '/generator',
      summary: 'Task generator settings and counters',
      servedBy: ['local'],
      responses: { 200: { description: 'Generator', schema: generatorStateSchema } },
    },
    {
      operationId: 'updateGenerator',
      method: 'post',
      path: '/generator',
      summary: 'Change the task generator (any subset of its settings)',
      servedBy: ['local'],
      auth: 'writes',
      body: generatorPatchSchema,
      responses: { 200: { description: 'Generator after the change', schema: generatorStateSchema } },
    },
    {
      operationId: 'getEvents',
      method: 'get',
      path: '/events',
      summary: 'Server-Sent Events: snapshot, decisions, block, fleet, metrics, scaling',
      servedBy: ['local'],
      responses: {
        200: { description: 'Event stream', contentType: 'text/event-stream' },
        503: {
          description: 'max_event_clients streams already open; retry after Retry-After seconds',
          schema: limitErrorBodySchema,
          headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } },
        },
      },
    },
    {
      operationId: 'getQueue',
      method: 'get',
      path: '/queue',
      summary: 'Queue depth and the number of dead letters',
      servedBy: ['local'],
      responses: { 200: { description: 'The queue', schema: queueResponseSchema } },
    },
    {
      operationId: 'getDeadLetters',
      method: 'get',
      path: '/queue/dead-letters',
      summary: 'Queue rows that could not be read back as a task, oldest first',
      servedBy: ['local'],
      query: deadLettersQuerySchema,
      responses: { 200: { description: 'Dead letters', schema: deadLettersResponseSchema } },
    },
    {
      operationId: 'getOpenApi',
      method: 'get',
      path: '/openapi.json',
      summary: 'This document',
      servedBy: ['local', 'aws'],
      responses: {
        200: { description: 'OpenAPI 3.1 document', schema: z.looseObject({ openapi: z.string() }) },
      },
    },
  ];
}

/** `/tasks/{id}` as Hono writes it: `/tasks/:id`. */
export function honoPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/**
 * The methods `routes` serve at a concrete request path (upper case, HEAD with GET), or [] when no
 * route has that path: a known path asked with another method is a 405 with this list as `Allow`.
 */
export function allowedMethods(routes: readonly RouteSpec[], requestPath: string): string[] {
  const segments = requestPath.split('/');
  const methods = new Set<string>();
  for (const route of routes) {
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const matches = template.every((part, i) =>
      part.startsWith('{') ? (segments[i] ?? '') !== '' : part === segments[i],
    );
    if (!matches) continue;
    methods.add(route.method.toUpperCase());
    if (route.method === 'get') methods.add('HEAD');
  }
  return [...methods].sort();
}

/** The body of a 405: which methods the path does serve (also sent as the `Allow` header). */
export function methodNotAllowedBody(method: string, path: string, allowed: readonly string[]) {
  return {
    error: 'MethodNotAllowed',
    message: `${method} is not served at ${path}; allowed: ${allowed.join(', ')}`,
  };
}
