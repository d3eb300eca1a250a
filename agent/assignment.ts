import * as z from 'zod';
import { taskIdSchema } from '../lib/schemas/task-input';

/** One task for the agent to run, whatever source it came from (HTTP feed, EventBridge via SQS). */
export interface Assignment {
  taskId: string;
  /** The ledger's assignment transaction: the dedupe key (an event source may deliver it twice). */
  transactionId: string;
  blockHeight: number;
  /** Shell command, or null: the agent then simulates the task by sleeping its duration. */
  command: string | null;
  /** Seconds. */
  durationS: number;
  /** Epoch ms after which the ledger expires the assignment; the agent kills the task then. */
  leaseExpiresAt: number;
}

const itemSchema = z.object({
  task_id: taskIdSchema,
  transaction_id: z.string().min(1).max(128),
  block_height: z.number().int().min(0),
  command: z.string().min(1).max(4096).nullable(),
  duration: z.number().finite().min(0),
  lease_expires_at: z.number().int().min(0),
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
  };
}
