import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import type { BacklogGauge } from '../../ports/scaling';

/**
 * Every message counts: visible ones wait for the scheduler, in-flight ones are in a scheduler batch
 * right now (or will be redelivered), delayed ones were released to wait for capacity. The three are
 * approximate (SQS says so); the policy smooths over a minute anyway.
 *
 * The unit is the message. The enqueue function packs up to tasksPerMessage consecutive tasks of one
 * submission into a message (version 2 bodies), and SQS cannot count what is inside without receiving
 * them, so with packing this is a lower bound on unplaced tasks (exact with tasksPerMessage 1).
 */
const BACKLOG_ATTRIBUTES: QueueAttributeName[] = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
];

export class SqsBacklog implements BacklogGauge {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async backlog(): Promise<number> {
    const { Attributes } = await this.client.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: BACKLOG_ATTRIBUTES }),
    );
    let total = 0;
    for (const name of BACKLOG_ATTRIBUTES) {
      const value = Number(Attributes?.[name] ?? Number.NaN);
      // A missing attribute would read as an empty queue and scale the fleet in under load.
      if (!Number.isInteger(value) || value < 0) {
        throw new Error(`SQS returned no usable ${name} for ${this.queueUrl} (got ${Attributes?.[name]})`);
      }
      total += value;
    }
    return total;
  }
}
