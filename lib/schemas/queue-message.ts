import { z } from 'zod';
import { DEFAULT_DIMENSIONS, type Dimensions } from '../model/resources';
import type { Task } from '../model/task';
import { withoutPrototypeKey } from './json-body';
import { MAX_AMOUNT, taskIdSchema } from './task-input';

/**
 * The body of one task-queue message: a Task accepted by the intake (ids assigned, submission time
 * stamped), versioned so that a consumer can refuse a shape it does not know instead of guessing.
 * The producer and the consumer both use this schema, so a message that fails it was not written by
 * our intake (or was written by a different version) and is never scheduled.
 */
export const QUEUE_MESSAGE_VERSION = 1;

/** SQS message attribute carrying the task id, so operators can find a message without parsing it. */
export const TASK_ID_ATTRIBUTE = 'taskId';

const amount = z.number().finite().min(0).max(MAX_AMOUNT);
const labels = withoutPrototypeKey(z.record(z.string().min(1).max(63), z.string().max(256)));

export function queuedTaskSchema(dimensions: Dimensions = DEFAULT_DIMENSIONS) {
  const requirements: Record<string, typeof amount> = {};
  for (const d of dimensions) requirements[d] = amount;
  return z.strictObject({
    id: taskIdSchema,
    // Exactly the configured dimensions: a message built for another dimension set is refused rather
    // than scheduled with a dimension silently missing or ignored.
    requirements: z.strictObject(requirements),
    duration: z.number().finite().positive().max(31_536_000),
    deadline: z.number().finite().min(0).max(1e11),
    priority: z.number().int().min(-1000).max(1000),
    submittedAt: z.number().int().min(0),
    labels,
    constraints: labels,
    command: z.string().min(1).max(4096).optional(),
  });
}

export function queueMessageSchema(dimensions: Dimensions = DEFAULT_DIMENSIONS) {
  return z.strictObject({
    version: z.literal(QUEUE_MESSAGE_VERSION),
    task: queuedTaskSchema(dimensions),
  });
}

export type QueueMessage = { version: typeof QUEUE_MESSAGE_VERSION; task: Task };

export function toQueueMessage(task: Task): QueueMessage {
  return { version: QUEUE_MESSAGE_VERSION, task };
}
