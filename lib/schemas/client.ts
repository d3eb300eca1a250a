import * as z from 'zod';
import {
  assignmentItemSchema,
  assignmentsResponseSchema,
  blocksPageResponseSchema,
  completeResponseSchema,
  configResponseSchema,
  fleetResponseSchema,
  fleetVmBodySchema,
  submitResponseSchema,
  taskStatusResponseSchema,
} from './responses';

/**
 * What the clients (the CLI, the agent, through http/client.ts) read of the server's answers: the
 * response schemas of ./responses.ts, cut to the fields each client relies on and with unknown fields
 * let through, because the server is another process, possibly a newer version, and a field it adds
 * must not break an older client. The server's own answers are held to the strict schemas by the
 * contract tests; these only pick from them, so a client cannot drift from the contract unseen.
 */

/** GET /tasks/{id}, as the agent reads it. */
export const taskStateAnswer = taskStatusResponseSchema
  .pick({ task_id: true, status: true, transaction_id: true })
  .loose();

/** POST /tasks/{id}/complete, as the agent reads it. */
export const completeAnswer = completeResponseSchema.pick({ task_id: true, status: true }).loose();

/** One item of GET /vms/{id}/assignments. */
export const assignmentAnswer = assignmentItemSchema.loose();

/** GET /vms/{id}/assignments, as the agent reads it. */
export const assignmentsAnswer = assignmentsResponseSchema
  .extend({ assignments: z.array(assignmentAnswer) })
  .loose();

/**
 * GET /ledger/blocks, blocks left unvalidated: the verifier validates each one and reports a malformed
 * block as a finding at its height, not as an I/O error.
 */
export const blocksPageAnswer = blocksPageResponseSchema
  .extend({ height: z.number().int().min(-1), blocks: z.array(z.unknown()) })
  .loose();

/** POST /tasks (202). */
export const submitAnswer = submitResponseSchema.loose();

/** GET /config, the parts `bcs enqueue` sizes generated tasks by. */
export const enqueueConfigAnswer = configResponseSchema
  .pick({ dimensions: true })
  .extend({ fleet: configResponseSchema.shape.fleet.pick({ capacity: true }).partial().loose().optional() })
  .loose();

/** GET /fleet, the capacities `bcs enqueue` falls back on where there is no GET /config (AWS). */
export const fleetCapacitiesAnswer = fleetResponseSchema
  .pick({})
  .extend({ vms: z.array(fleetVmBodySchema.pick({ capacity: true }).loose()) })
  .loose();
