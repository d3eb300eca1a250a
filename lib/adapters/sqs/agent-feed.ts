import { createHash } from 'node:crypto';
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { AssignmentPublisher, PublishFailure, TaskAssigned } from '../../ports/dispatcher';
import { TASK_ASSIGNED_DETAIL_TYPE, TASK_ASSIGNED_SOURCE } from '../eventbridge/eventbridge-publisher';

/** SendMessageBatch takes at most 10 entries and 256 KiB (the sum of the bodies) per call. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 256 * 1024;
/** SQS queue names: 1-80 of letters, digits, hyphens and underscores. */
const MAX_QUEUE_NAME = 80;
const QUEUE_NAME_CHARS = /^[A-Za-z0-9_-]+$/;

/**
 * Attributes of every agent queue. The agent deletes a message once it is done with the assignment;
 * a message whose agent died comes back after the visibility timeout (a restarted agent then takes
 * it, and the ledger check decides), and a task running longer is received again by the same agent,
 * which keeps the newer receipt (lib/adapters/sqs/assignment-source.ts). 14 days of retention: the
 * longest SQS allows, far beyond any lease, so an instance whose agent starts late still finds its
 * assignments (the ledger check then skips the ones whose lease ended).
 */
export const AGENT_QUEUE_ATTRIBUTES = {
  VisibilityTimeout: '300',
  MessageRetentionPeriod: '1209600',
  SqsManagedSseEnabled: 'true',
} as const;

/**
 * The prefix of a stack's agent queues: the first 32 characters of the stack name, a 6-digit hash of
 * the whole name (two stacks whose names share 32 characters still differ) and `-agent-`. At most
 * 46 characters, which leaves 34 for the VM id (an EC2 instance id has 19).
 */
export function agentQueuePrefix(stackName: string): string {
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, 6);
  return `${stackName.slice(0, 32)}-${hash}-agent-`;
}

/** The queue of one VM's agent; throws for a VM id SQS cannot name a queue after. */
export function agentQueueName(prefix: string, vmId: string): string {
  const name = `${prefix}${vmId}`;
  if (!QUEUE_NAME_CHARS.test(name) || name.length > MAX_QUEUE_NAME) {
    throw new RangeError(
      `VM id "${vmId}" cannot name an agent queue: SQS names are 1-${MAX_QUEUE_NAME} letters, digits, hyphens or underscores (prefix "${prefix}")`,
    );
  }
  return name;
}

/** The SQS message body of a TaskAssigned: the envelope an EventBridge rule would deliver. */
export function taskAssignedMessage(event: TaskAssigned, time: Date): string {
  return JSON.stringify({
    version: '0',
    source: TASK_ASSIGNED_SOURCE,
    'detail-type': TASK_ASSIGNED_DETAIL_TYPE,
    time: time.toISOString(),
    detail: event,
  });
}

export interface SqsAgentFeedOptions {
  client: Pick<SQSClient, 'send'>;
  /** agentQueuePrefix(stack name): the dispatch role may create and send to these queues only. */
  queuePrefix: string;
  /** @default () => new Date() */
  now?: () => Date;
}

/**
 * The agents' feed on AWS: every TaskAssigned goes to the SQS queue of its VM
 * (`<prefix><vm id>`), which this publisher creates on the VM's first assignment (CreateQueue is
 * idempotent with the same attributes), so nothing assigned before the agent starts is lost. The
 * body is the EventBridge envelope `bcs agent` reads (lib/adapters/sqs/assignment-source.ts).
 *
 * Why not an EventBridge rule per instance: a bus holds 300 rules by default, which would cap the
 * fleet, and a rule created when the agent registers drops what was assigned before. Why not one
 * queue per pool: SQS cannot filter on receive, so an agent would take other instances' work.
 */
export class SqsAgentFeed implements AssignmentPublisher {
  private readonly urls = new Map<string, string>();
  private readonly now: () => Date;

  constructor(private readonly options: SqsAgentFeedOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async publish(events: readonly TaskAssigned[]): Promise<PublishFailure[]> {
    const failures: PublishFailure[] = [];
    const byVm = new Map<string, TaskAssigned[]>();
    for (const event of events) byVm.set(event.vmId, [...(byVm.get(event.vmId) ?? []), event]);
    for (const [vmId, mine] of byVm) {
      try {
        const url = await this.queueUrl(vmId);
        for (const batch of batches(mine, this.now())) failures.push(...(await this.send(vmId, url, batch)));
      } catch (error) {
        this.urls.delete(vmId);
        const message = `${(error as Error).name}: ${(error as Error).message}`;
        for (const event of mine) {
          if (!failures.some((f) => f.transactionId === event.transactionId))
            failures.push({
              transactionId: event.transactionId,
              error: `agent queue of ${vmId}: ${message}`,
            });
        }
      }
    }
    return failures;
  }

  private async queueUrl(vmId: string): Promise<string> {
    const known = this.urls.get(vmId);
    if (known !== undefined) return known;
    const QueueName = agentQueueName(this.options.queuePrefix, vmId);
    let url: string | undefined;
    try {
      ({ QueueUrl: url } = await this.options.client.send(
        new CreateQueueCommand({ QueueName, Attributes: { ...AGENT_QUEUE_ATTRIBUTES } }),
      ));
    } catch (error) {
      // The queue exists with other attributes (an operator changed them): use it as it is.
      if ((error as Error).name !== 'QueueNameExists') throw error;
      ({ QueueUrl: url } = await this.options.client.send(new GetQueueUrlCommand({ QueueName })));
    }
    if (!url) throw new Error(`SQS returned no URL for ${QueueName}`);
    this.urls.set(vmId, url);
    return url;
  }

  private async send(
    vmId: string,
    url: string,
    batch: { event: TaskAssigned; entry: SendMessageBatchRequestEntry }[],
  ): Promise<PublishFailure[]> {
    const { Failed = [] } = await this.options.client.send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: batch.map((b) => b.entry) }),
    );
    return Failed.map((f) => ({
      transactionId: batch[Number(f.Id)]!.event.transactionId,
      error: `agent queue of ${vmId}: ${f.Code ?? 'Error'}: ${f.Message ?? 'refused'}`,
    }));
  }
}

/** Consecutive runs within SendMessageBatch's limits; entry ids are the index in their batch. */
function batches(events: readonly TaskAssigned[], time: Date) {
  type Item = { event: TaskAssigned; entry: SendMessageBatchRequestEntry };
  const out: Item[][] = [];
  let current: Item[] = [];
  let bytes = 0;
  for (const event of events) {
    const body = taskAssignedMessage(event, time);
    const size = Buffer.byteLength(body, 'utf8');
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ event, entry: { Id: String(current.length), MessageBody: body } });
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
