import type { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsUndeliveredCommands } from '../../../lib/adapters/sqs/undelivered-commands';
import type { UndeliveredCommand } from '../../../lib/ports/dispatcher';

const undelivered: UndeliveredCommand = {
  assignment: {
    task: {
      id: 't-1',
      requirements: { cpu: 100 },
      duration: 60,
      deadline: 2_000_000_000,
      command: 'make',
      labels: {},
    },
    vmId: 'i-0abc',
    transactionId: 'tx-1',
    blockHeight: 3,
    leaseExpiresAt: 1_900_000_000_000,
  },
  error: 'InvalidInstanceId: i-0abc',
  attempts: 3,
  at: 1_800_000_000_000,
};

describe('SqsUndeliveredCommands', () => {
  it('sends one message per command: the whole assignment in the body, task and transaction as attributes', async () => {
    const calls: SendMessageCommand['input'][] = [];
    const client = {
      send: async (c: SendMessageCommand) => {
        calls.push(c.input);
        return {};
      },
    } as unknown as SQSClient;

    await new SqsUndeliveredCommands(client, 'https://sqs.example/q').deadLetter([undelivered, undelivered]);

    expect(calls).toHaveLength(2);
    expect(calls[0]!.QueueUrl).toBe('https://sqs.example/q');
    expect(JSON.parse(calls[0]!.MessageBody!)).toEqual({ kind: 'UndeliveredCommand', ...undelivered });
    expect(calls[0]!.MessageAttributes).toEqual({
      taskId: { DataType: 'String', StringValue: 't-1' },
      transactionId: { DataType: 'String', StringValue: 'tx-1' },
      reason: { DataType: 'String', StringValue: 'InvalidInstanceId: i-0abc' },
    });
  });

  it('propagates a failed send (the dispatcher then fails the block)', async () => {
    const client = {
      send: async () => {
        throw new Error('AccessDenied');
      },
    } as unknown as SQSClient;
    await expect(
      new SqsUndeliveredCommands(client, 'https://sqs.example/q').deadLetter([undelivered]),
    ).rejects.toThrow('AccessDenied');
  });
});
