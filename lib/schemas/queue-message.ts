import * as z from 'zod';
import { DEFAULT_DIMENSIONS, type Dimensions } from '../model/resources';
import type { Task } from '../model/task';
import { amountSchema } from './amounts';
import { withoutPrototypeKey } from './json-body';
import { gpuModelsSchema, taskIdSchema } from './task-input';

/**
 * The body of one task-queue message: a Task accepted by the intake (ids assigned, submission time
 * stamped), versioned so that a consumer can refuse a shape it does not know instead of guessing.
 * The producer and the consumer both use this schema, so a message that fails it was not written by
 * our intake (or was written by a different version) and is never scheduled.
 */
export const QUEUE_MESSAGE_VERSION = 1;

/**
 * Version 2 carries several tasks (`tasks: [...]`), so one SQS message is not one task: a receive of
 * 10 messages (SQS's and MiniStack's batch cap) can fill a block of many more decisions. Consumers
 * read both versions, so messages queued before a deploy still parse.
 */
export const MULTI_TASK_MESSAGE_VERSION = 2;

/** Most tasks one message may carry: a schema bound well above any configured packing. */
export const MAX_TASKS_PER_MESSAGE = 100;

/**
 * Tasks the enqueue function packs into one message unless configured otherwise: 10 messages per
 * receive then carry up to 250 tasks, and 25 typical tasks are a few KiB, far below 256 KiB.
 */
export const DEFAULT_TASKS_PER_MESSAGE = 25;

/** SQS message attribute carrying the task id, so operators can find a message without parsing it. */
export const TASK_ID_ATTRIBUTE = 'taskId';

/** On a multi-task message: the ids of its tasks, as a JSON array. */
export const TASK_IDS_ATTRIBUTE = 'taskIds';

const amount = amountSchema;
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
    gpuModels: gpuModelsSchema.optional(),
    command: z.string().min(1).max(4096).optional(),
  });
}

export function queueMessageSchema(dimensions: Dimensions = DEFAULT_DIMENSIONS) {
  return z.strictObject({
    version: z.literal(QUEUE_MESSAGE_VERSION),
    task: queuedTaskSchema(dimensions),
  });
}

/** Either version; `tasksOf` gives the tasks of a parsed body whichever it is. */
export function queueMessageBodySchema(dimensions: Dimensions = DEFAULT_DIMENSIONS) {
  return z.discriminatedUnion('version', [
    queueMessageSchema(dimensions),
    z.strictObject({
      version: z.literal(MULTI_TASK_MESSAGE_VERSION),
      tasks: z
        .array(queuedTaskSchema(dimensions))
        .min(1)
        .max(MAX_TASKS_PER_MESSAGE)
        // Our intake never packs one id twice: such a body was not written by it.
        .refine((tasks) => new Set(tasks.map((t) => t.id)).size === tasks.length, {
          message: 'task ids must be distinct within a message',
        }),
    }),
  ]);
}

export type QueueMessage = { version: typeof QUEUE_MESSAGE_VERSION; task: Task };
export type MultiTaskQueueMessage = { version: typeof MULTI_TASK_MESSAGE_VERSION; tasks: Task[] };

export function toQueueMessage(task: Task): QueueMessage {
  return { version: QUEUE_MESSAGE_VERSION, task };
}

export function toMultiTaskMessage(tasks: Task[]): MultiTaskQueueMessage {
  return { version: MULTI_TASK_MESSAGE_VERSION, tasks };
}

export function tasksOf(message: QueueMessage | MultiTaskQueueMessage): Task[] {
  return 'tasks' in message ? message.tasks : [message.task];
}
