import { z } from 'zod';
import type { Dimensions } from '../../lib/model/resources';
import { addVmsSchema, algorithmChangeSchema, generatorPatchSchema } from '../../lib/schemas/http';
import { taskInputSchema } from '../../lib/schemas/task-input';

/**
 * The OpenAPI 3.1 description of the API, with request bodies generated from the same zod schemas
 * the routes validate with, so the document cannot drift from what the server accepts.
 */
export function openApiDocument(dimensions: Dimensions, algorithms: readonly string[]): object {
  const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: 'input', unrepresentable: 'any' });
  const task = schema(taskInputSchema(dimensions));
  const json = (s: object) => ({ content: { 'application/json': { schema: s } } });
  const error = {
    description: 'Invalid input; `issues` names each field',
    ...json({ $ref: '#/components/schemas/Error' }),
  };
  // Every JSON body route refuses a body declared as anything but application/json.
  const unsupported = {
    description: 'Body not declared as application/json',
    ...json({ $ref: '#/components/schemas/Error' }),
  };
  const notFound = { description: 'Not found', ...json({ $ref: '#/components/schemas/Error' }) };
  const ok = (description: string) => ({ description, ...json({ type: 'object' }) });
  const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
  return {
    openapi: '3.1.0',
    info: { title: 'blockchain-cloud-scheduler', version: '0.1.0' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Task: task,
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string' },
            message: { type: 'string' },
            issues: {
              type: 'array',
              items: {
                type: 'object',
                properties: { field: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        },
      },
    },
    paths: {
      '/tasks': {
        post: {
          summary: 'Submit one task or an array of tasks (idempotent by id)',
          security: [{ bearer: [] }],
          requestBody: json({
            oneOf: [
              { $ref: '#/components/schemas/Task' },
              { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/Task' } },
            ],
          }),
          responses: {
            202: ok('{"accepted":[ids],"duplicates":[ids]}'),
            400: error,
            413: { description: 'Body over the limit' },
            415: unsupported,
            429: { description: 'Queue full; see Retry-After' },
            503: { description: 'Store busy, nothing written; see Retry-After' },
          },
        },
      },
      '/tasks/{id}': {
        get: {
          summary: 'Status of a task',
          parameters: [idParam('id')],
          responses: { 200: ok('queued | assigned | rejected | completed | expired'), 404: notFound },
        },
      },
      '/tasks/{id}/complete': {
        post: {
          summary: 'Record completion of an assigned task (a repeat is answered already-final)',
          security: [{ bearer: [] }],
          parameters: [idParam('id')],
          responses: { 200: ok('closed or already-final'), 404: notFound },
        },
      },
      '/fleet': {
        get: { summary: 'VMs with capacity, reservations and usage', responses: { 200: ok('fleet') } },
      },
      '/fleet/autoscaling': {
        get: {
          summary: 'Autoscaling settings and, while on, its state (fleet size, backlog per VM, actions)',
          responses: { 200: ok('autoscaling') },
        },
      },
      '/fleet/vms': {
        post: {
          summary: 'Add simulated VMs',
          security: [{ bearer: [] }],
          requestBody: json(schema(addVmsSchema(dimensions))),
          responses: { 201: ok('{"added":[ids]}'), 400: error, 415: unsupported },
        },
      },
      '/fleet/vms/{id}/drain': {
        post: {
          summary: 'Stop placing tasks on a VM; it leaves once empty',
          security: [{ bearer: [] }],
          parameters: [idParam('id')],
          responses: { 200: ok('draining'), 404: notFound },
        },
      },
      '/vms/{id}/assignments': {
        get: {
          summary:
            "An agent-managed VM's open assignments (task, transaction, block, command, duration, lease end); long poll with wait",
          security: [{ bearer: [] }],
          parameters: [
            idParam('id'),
            { name: 'wait', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 30 } },
            { name: 'since', in: 'query', schema: { type: 'integer', minimum: 0 } },
          ],
          responses: {
            200: ok('{"vm_id","managed","height","assignments":[...]}'),
            400: error,
            401: { description: 'Token missing or wrong' },
            404: notFound,
          },
        },
      },
      '/config': {
        get: {
          summary: 'Dimensions, units, algorithm, parameters, autoscaling',
          responses: { 200: ok('config') },
        },
      },
      '/config/algorithm': {
        put: {
          summary: 'Switch the placement algorithm at run time',
          security: [{ bearer: [] }],
          requestBody: json(schema(algorithmChangeSchema(algorithms))),
          responses: { 200: ok('config'), 400: error, 415: unsupported },
        },
      },
      '/ledger': {
        get: { summary: 'Head, transaction count and per-VM statistics', responses: { 200: ok('summary') } },
      },
      '/ledger/blocks': {
        get: {
          summary: 'Blocks from a height, at most 100',
          parameters: [
            { name: 'from', in: 'query', schema: { type: 'integer', minimum: 0 } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
          ],
          responses: { 200: ok('{"height","blocks":[...]}'), 400: error },
        },
      },
      '/ledger/transactions/{id}': {
        get: {
          summary: 'A transaction with its RFC 9162 inclusion proof against the current digest',
          parameters: [idParam('id')],
          responses: { 200: ok('transaction proof'), 404: notFound },
        },
      },
      '/ledger/digest': {
        get: {
          summary: 'The digest an auditor keeps; signed=1 signs it (docs/ledger-format.md section 10)',
          parameters: [
            { name: 'signed', in: 'query', schema: { type: 'string', enum: ['1', 'true', '0', 'false'] } },
          ],
          responses: { 200: ok('digest, or signed digest'), 400: error },
        },
      },
      '/ledger/consistency': {
        get: {
          summary:
            'RFC 9162 consistency proof between the digests at tree sizes from and to (docs/ledger-format.md section 7.1)',
          parameters: [
            {
              name: 'from',
              in: 'query',
              required: true,
              schema: { type: 'string', pattern: '^[0-9]{1,15}$' },
            },
            { name: 'to', in: 'query', schema: { type: 'string', pattern: '^[0-9]{1,15}$' } },
          ],
          responses: { 200: ok('the two digests and the proof'), 400: error },
        },
      },
      '/ledger/public-key': {
        get: {
          summary: 'The public key (SPKI PEM) that checks signed digests',
          responses: { 200: { description: 'public key', content: { 'application/x-pem-file': {} } } },
        },
      },
      '/ledger/verify': {
        post: { summary: 'Verify the whole chain', responses: { 200: ok('verification report') } },
      },
      '/ledger/export': {
        get: {
          summary: 'The chain as JSON Lines, one canonical block per line',
          responses: { 200: { description: 'blocks', content: { 'application/x-ndjson': {} } } },
        },
      },
      '/generator': {
        get: { summary: 'Task generator settings', responses: { 200: ok('generator') } },
        post: {
          summary: 'Change the task generator',
          security: [{ bearer: [] }],
          requestBody: json(schema(generatorPatchSchema)),
          responses: { 200: ok('generator'), 400: error, 415: unsupported },
        },
      },
      '/events': {
        get: {
          summary: 'Server-Sent Events: snapshot, decisions, block, fleet, metrics, scaling',
          responses: { 200: { description: 'event stream', content: { 'text/event-stream': {} } } },
        },
      },
    },
  };
}
