import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { UndeliveredCommand, UndeliveredCommands } from '../../ports/dispatcher';
import { DEAD_LETTER_ATTRIBUTES } from './dead-letter-sender';

/** SQS refuses a string attribute over the message limit; reasons are short, keep them so. */
const MAX_REASON_ATTRIBUTE = 1024;

/**
 * Commands the dispatcher could not send, one SQS message each: the body is the whole
 * UndeliveredCommand (the TaskAssigned with its command, the last error, the attempts), the
 * attributes name the task and transaction for triage. The queue is the dispatch failure queue, whose
 * alarm fires on any message. A send that throws propagates: the dispatcher fails the block and the
 * stream hands it over again.
 */
export class SqsUndeliveredCommands implements UndeliveredCommands {
  constructor(
    private readonly client: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async deadLetter(commands: readonly UndeliveredCommand[]): Promise<void> {
    for (const command of commands) {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: JSON.stringify({ kind: 'UndeliveredCommand', ...command }),
          MessageAttributes: {
            [DEAD_LETTER_ATTRIBUTES.taskId]: { DataType: 'String', StringValue: command.assignment.task.id },
            [DEAD_LETTER_ATTRIBUTES.transactionId]: {
              DataType: 'String',
              StringValue: command.assignment.transactionId,
            },
            [DEAD_LETTER_ATTRIBUTES.reason]: {
              DataType: 'String',
              StringValue: command.error.slice(0, MAX_REASON_ATTRIBUTE) || 'refused',
            },
          },
        }),
      );
    }
  }
}
