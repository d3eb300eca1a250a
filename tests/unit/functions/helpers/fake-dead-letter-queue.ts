import type { SendMessageBatchCommand, SendMessageBatchCommandOutput } from '@aws-sdk/client-sqs';

type Input = SendMessageBatchCommand['input'];
type Entry = NonNullable<Input['Entries']>[number];

/** What a DLQ consumer would read: the body and the string message attributes. */
export interface ReceivedDeadLetter {
  body: string;
  attributes: Record<string, string>;
}

/**
 * An SQS client that answers SendMessageBatch like SQS: `refuse(call, taskId)` marks an entry
 * Failed, `throwOn(call)` fails the whole request. Accepted entries become `messages`.
 */
export class FakeDeadLetterQueue {
  readonly requests: Input[] = [];
  readonly messages: ReceivedDeadLetter[] = [];

  constructor(
    private readonly options: {
      refuse?: (call: number, taskId: string) => boolean;
      throwOn?: (call: number) => boolean;
    } = {},
  ) {}

  async send(command: SendMessageBatchCommand): Promise<SendMessageBatchCommandOutput> {
    const input = command.input;
    this.requests.push(input);
    const call = this.requests.length;
    if (this.options.throwOn?.(call)) throw new Error('connect ETIMEDOUT');
    const entries = input.Entries ?? [];
    const refused = (e: Entry) =>
      this.options.refuse?.(call, e.MessageAttributes?.taskId?.StringValue ?? '') ?? false;
    for (const e of entries.filter((x) => !refused(x))) {
      this.messages.push({
        body: e.MessageBody!,
        attributes: Object.fromEntries(
          Object.entries(e.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue!]),
        ),
      });
    }
    return {
      Successful: entries
        .filter((e) => !refused(e))
        .map((e) => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: '' })),
      Failed: entries.filter(refused).map((e) => ({
        Id: e.Id!,
        Code: 'KMS.ThrottlingException',
        SenderFault: false,
        Message: 'slow down',
      })),
      $metadata: {},
    };
  }
}
