import * as z from 'zod';
import { completeBodySchema } from './api';
import { taskIdSchema } from './task-input';

/**
 * The body of POST /tasks/{id}/complete (lib/schemas/api.ts: the task's reported outcome, optional),
 * validated where it arrives (the API function, the local server; the command-status function builds
 * one). It travels whole in the completion message, so a field added to it reaches the settlement
 * without touching the queue.
 */
export const completionBodySchema = completeBodySchema;

export type CompletionBody = z.output<typeof completionBodySchema>;

/** A completion as it is settled: the task and the validated body reported for it. */
export interface CompletionRequest {
  task_id: string;
  body: CompletionBody;
}

/**
 * The body of one completion-queue message (the API and command-status functions send, the lease
 * closer consumes). Versioned like the task queue's messages: a consumer refuses a shape it does not
 * know instead of guessing.
 */
export const COMPLETION_MESSAGE_VERSION = 1;

export const completionMessageSchema = z.strictObject({
  v: z.literal(COMPLETION_MESSAGE_VERSION),
  task_id: taskIdSchema,
  body: completionBodySchema,
  /** Who reported it, for the logs: the API (a client's POST) or the command-status function (SSM). */
  source: z.enum(['api', 'command-status']),
  /** When the report was accepted, epoch ms: how long the queue held it is logged and counted. */
  sent_at: z.number().int().min(0),
});

export type CompletionMessage = z.output<typeof completionMessageSchema>;

/** SQS message attribute carrying the task id, so operators can find a message without parsing it. */
export const COMPLETION_TASK_ID_ATTRIBUTE = 'taskId';
