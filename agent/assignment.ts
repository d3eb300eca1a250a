import * as z from 'zod';
import type { Assignment } from '../lib/ports/assignment-source';
import { taskIdSchema } from '../lib/schemas/task-input';

const itemSchema = z.object({
  task_id: taskIdSchema,
  transaction_id: z.string().min(1).max(128),
  block_height: z.number().int().min(0),
  command: z.string().min(1).max(4096).nullable(),
  duration: z.number().finite().min(0),
  lease_expires_at: z.number().int().min(0),
  devices: z.array(z.number().int().min(0).max(63)).min(1).max(64).optional(),
});

/** GET /vms/{id}/assignments, validated: the server is input from outside like any other. */
export const assignmentsResponseSchema = z.object({
  vm_id: z.string(),
  managed: z.enum(['simulation', 'agent']),
  height: z.number().int().min(-1),
  assignments: z.array(itemSchema),
});
export type AssignmentsResponseBody = z.output<typeof assignmentsResponseSchema>;

export function fromFeedItem(item: z.output<typeof itemSchema>): Assignment {
  return {
    taskId: item.task_id,
    transactionId: item.transaction_id,
    blockHeight: item.block_height,
    command: item.command,
    durationS: item.duration,
    leaseExpiresAt: item.lease_expires_at,
    ...(item.devices === undefined ? {} : { devices: item.devices }),
  };
}
