import type * as z from 'zod';
import type { Assignment } from '../lib/ports/assignment-source';
import type { assignmentAnswer } from '../lib/schemas/client';

export function fromFeedItem(item: z.output<typeof assignmentAnswer>): Assignment {
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
