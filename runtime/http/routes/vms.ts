import { Hono } from 'hono';
import { NotFoundError, parseOrThrow } from '../../../lib/errors';
import { assignmentsQuerySchema } from '../../../lib/schemas/api';
import { vmIdSchema } from '../../../lib/schemas/http';
import type { AssignmentsResponse } from '../../fleet/assignment-feed';
import type { LocalRuntime } from '../../runtime';
import { requireBearer } from '../auth';

/**
 * GET /vms/{id}/assignments: what an agent on the VM is to run. Unlike the ledger reads this one
 * needs the token when one is configured: it hands out the commands to execute.
 */
export function vmRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();
  const { token } = runtime.config;
  if (token !== undefined) app.use('*', requireBearer(token));

  app.get('/:id/assignments', async (c) => {
    const id = parseOrThrow(vmIdSchema, c.req.param('id'), 'invalid VM id');
    const query = parseOrThrow(assignmentsQuerySchema, c.req.query(), 'invalid query');
    const managed = runtime.managedBy(id);
    if (managed === null) throw new NotFoundError(`no VM ${id}`);
    const since = query.since ?? -1;
    const assignments = await runtime.assignments.poll(id, since, query.wait * 1000, c.req.raw.signal);
    const body: AssignmentsResponse = {
      vm_id: id,
      managed,
      height: Math.max(since, ...assignments.map((a) => a.block_height)),
      assignments,
    };
    return c.json(body);
  });

  return app;
}
