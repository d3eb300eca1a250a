import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import * as z from 'zod';
import {
  type Assignment,
  type AssignmentSource,
  PermanentError,
  type PollRequest,
  type Settlement,
  TransientError,
} from '../../ports/assignment-source';
import type { TaskAssigned } from '../../ports/dispatcher';
import { taskIdSchema } from '../../schemas/task-input';

/** SQS answers a receive after at most 20 s and hands out at most 10 messages. */
const MAX_WAIT_S = 20;
const MAX_MESSAGES = 10;
const MAX_LOGGED_BODY = 300;

const detailSchema = z.object({
  task: z.object({
    id: taskIdSchema,
    duration: z.number().finite().min(0),
    command: z.string().min(1).max(4096).optional(),
  }),
  vmId: z.string().min(1).max(128),
  transactionId: z.string().min(1).max(128),
  blockHeight: z.number().int().min(0),
  leaseExpiresAt: z.number().int().min(0),
  devices: z.array(z.number().int().min(0).max(63)).min(1).max(64).optional(),
});

/** An EventBridge event as an SQS target receives it: the whole envelope is the message body. */
const eventSchema = z.object({
  source: z.literal('bcs.scheduler'),
  'detail-type': z.literal('TaskAssigned'),
  detail: detailSchema,
});

// The dispatcher's event type must stay readable by this schema (a compile-time check).
const _fits = (detail: TaskAssigned): z.input<typeof detailSchema> => detail;

export interface SqsSourceOptions {
  client: Pick<SQSClient, 'send'>;
  /**
   * The queue, by URL or by name (looked up with GetQueueUrl on the first poll, and again on every
   * poll until it exists: the stack's dispatcher creates a VM's queue on its first assignment).
   */
  queue: { url: string } | { name: string };
  vmId: string;
  /** Where dropped messages are reported (the agent's structured log). */
  log: (level: 'error', msg: string, fields: Record<string, unknown>) => void;
}

/**
 * TaskAssigned events for one VM, from the SQS queue an EventBridge rule (matching `detail.vmId`)
 * delivers them to. A message is deleted once the agent is finished with its assignment and made
 * visible again at once when the agent asks for a retry; one the agent never settles (it died)
 * comes back after the queue's visibility timeout, and the ledger check then decides. Messages
 * that are not a TaskAssigned event for this VM are logged and deleted.
 */
export class SqsAssignmentSource implements AssignmentSource {
  private readonly receipts = new Map<string, string>();
  private queueUrl: string | undefined;

  constructor(private readonly options: SqsSourceOptions) {
    if ('url' in options.queue) this.queueUrl = options.queue.url;
  }

  async poll({ waitS, max, signal }: PollRequest): Promise<Assignment[]> {
    const { client } = this.options;
    let messages: Message[];
    const queueUrl = await this.resolve(signal);
    try {
      const answer = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.max(1, Math.min(MAX_MESSAGES, max)),
          WaitTimeSeconds: Math.min(MAX_WAIT_S, waitS),
        }),
        { abortSignal: signal },
      );
      messages = answer.Messages ?? [];
    } catch (error) {
      throw classify(error);
    }
    const assignments: Assignment[] = [];
    for (const message of messages) {
      const assignment = await this.read(message);
      if (assignment) assignments.push(assignment);
    }
    return assignments;
  }

  /** The queue's URL; until the queue exists, a TransientError (the agent backs off and asks again). */
  private async resolve(signal: AbortSignal | undefined): Promise<string> {
    if (this.queueUrl !== undefined) return this.queueUrl;
    const name = (this.options.queue as { name: string }).name;
    try {
      const { QueueUrl } = await this.options.client.send(new GetQueueUrlCommand({ QueueName: name }), {
        abortSignal: signal,
      });
      if (!QueueUrl) throw new TransientError(`SQS GetQueueUrl: no URL for ${name}`);
      this.queueUrl = QueueUrl;
      return QueueUrl;
    } catch (error) {
      if (error instanceof TransientError) throw error;
      const e = error as Error;
      if (e.name === 'QueueDoesNotExist' || e.name === 'AWS.SimpleQueueService.NonExistentQueue') {
        throw new TransientError(
          `queue ${name} does not exist yet: the dispatcher creates it with this VM's first assignment`,
        );
      }
      throw classify(error, 'GetQueueUrl');
    }
  }

  async settle(assignment: Assignment, how: Settlement): Promise<void> {
    const receipt = this.receipts.get(assignment.transactionId);
    if (receipt === undefined) return;
    this.receipts.delete(assignment.transactionId);
    if (how === 'done') return this.remove(receipt);
    const { client } = this.options;
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.queueUrl,
        ReceiptHandle: receipt,
        VisibilityTimeout: 0,
      }),
    );
  }

  private async read(message: Message): Promise<Assignment | null> {
    const { vmId, log } = this.options;
    const body = message.Body ?? '';
    let parsed: z.output<typeof eventSchema> | null = null;
    try {
      const result = eventSchema.safeParse(JSON.parse(body));
      if (result.success) parsed = result.data;
    } catch {
      // Not JSON: dropped below like any other message that is not a TaskAssigned event.
    }
    if (parsed === null || parsed.detail.vmId !== vmId) {
      log('error', 'message dropped: not a TaskAssigned event for this VM', {
        vm_id: vmId,
        message_id: message.MessageId ?? null,
        body: body.slice(0, MAX_LOGGED_BODY),
      });
      await this.remove(message.ReceiptHandle);
      return null;
    }
    const { detail } = parsed;
    // A second delivery of an event the agent holds: keep the newer receipt, the older is void.
    const earlier = this.receipts.get(detail.transactionId);
    if (earlier !== undefined) await this.remove(earlier);
    if (message.ReceiptHandle !== undefined) this.receipts.set(detail.transactionId, message.ReceiptHandle);
    return {
      taskId: detail.task.id,
      transactionId: detail.transactionId,
      blockHeight: detail.blockHeight,
      command: detail.task.command ?? null,
      durationS: detail.task.duration,
      leaseExpiresAt: detail.leaseExpiresAt,
      ...(detail.devices === undefined ? {} : { devices: detail.devices }),
    };
  }

  private async remove(receipt: string | undefined): Promise<void> {
    if (receipt === undefined) return;
    await this.options.client.send(
      new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receipt }),
    );
  }
}

/**
 * Throttling, timeouts, broken connections and server faults (as the AWS SDK classifies them) are
 * worth retrying; a client fault such as a missing queue or a denied call is not.
 */
function classify(error: unknown, call = 'ReceiveMessage'): Error {
  const e = error as Parameters<typeof isTransientError>[0] & { message?: string; $fault?: string };
  const message = `SQS ${call}: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
  const retryable = isThrottlingError(e) || isTransientError(e) || isServerError(e);
  return e.$fault === 'client' && !retryable ? new PermanentError(message) : new TransientError(message);
}
