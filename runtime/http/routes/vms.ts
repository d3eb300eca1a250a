import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { z } from 'zod';
import { parseOrThrow } from '../../../lib/errors';
import { vmIdSchema } from '../../../lib/schemas/http';
import { NotFoundError } from '../../errors';
import type { AssignmentsResponse } from '../../fleet/assignment-feed';
import type { LocalRuntime } from '../../runtime';

/** Longest long poll, seconds: well under common proxy idle timeouts (60 s). */
export const MAX_WAIT_S = 30;

const decimal = z
  .string()
  .regex(/^[0-9]{1,15}$/, 'must be a whole number written in decimal digits')
  .transform(Number);

export const assignmentsQuerySchema = z.strictObject({
  /** Seconds to wait for an assignment from a block above `since` when there is none yet. */
  wait: decimal.pipe(z.number().int().min(0).max(MAX_WAIT_S)).default(0),
  /** The highest block height the caller has seen; -1 (the default) means none. */
  since: decimal.pipe(z.number().int().min(0)).optional(),
});

/**
 * GET /vms/{id}/assignments: what an agent on the VM is to run. Unlike the ledger reads this one
 * needs the token when one is configured: it hands out the commands to execute.
 */
export function vmRoutes(runtime: LocalRuntime): Hono {
  const app = new Hono();
  const { token } = runtime.config;
  if (token !== undefined) app.use('*', bearerAuth({ token }));

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
