import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { StoreUnavailableError } from '../../errors';
import type { Clock } from '../../ports/clock';
import type { CompletionSender } from '../../ports/completion-sender';
import {
  COMPLETION_MESSAGE_VERSION,
  COMPLETION_TASK_ID_ATTRIBUTE,
  type CompletionMessage,
  type CompletionRequest,
} from '../../schemas/completion';
import { isAwsUnavailable } from '../aws/transient-error';

/**
 * Completions on the completion queue, one message each: the whole validated body, so the lease
 * closer records exactly what was reported. A send that throws propagates: the API answers 503 and
 * the reporter retries; SSM's event rule retries the command-status function.
 */
export class SqsCompletionSender implements CompletionSender {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
    private readonly clock: Clock,
  ) {}

  async send(completion: CompletionRequest, source: CompletionMessage['source']): Promise<void> {
    const message: CompletionMessage = {
      v: COMPLETION_MESSAGE_VERSION,
      task_id: completion.task_id,
      body: completion.body,
      source,
      sent_at: this.clock.now(),
    };
    const send = this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        MessageAttributes: {
          [COMPLETION_TASK_ID_ATTRIBUTE]: { DataType: 'String', StringValue: completion.task_id },
        },
      }),
    );
    try {
      await send;
    } catch (error) {
      // Throttled or unreachable after the SDK's own retries: the reporter may retry (503).
      if (isAwsUnavailable(error))
        throw new StoreUnavailableError('the completion queue is unavailable', error);
      throw error;
    }
  }
}
