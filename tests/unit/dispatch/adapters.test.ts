import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvalidInstanceId, type SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import {
  EventBridgePublisher,
  entrySize,
  MAX_BYTES_PER_PUT,
} from '../../../lib/adapters/eventbridge/eventbridge-publisher';
import { SsmCommandRunner } from '../../../lib/adapters/ssm/ssm-command-runner';
import { CommandNotSentError, type TaskAssigned } from '../../../lib/ports/dispatcher';

const assigned = (n: number): TaskAssigned => ({
  task: { id: `t${n}`, requirements: { cpu: n }, duration: 60, deadline: 2_000_000_000, labels: {} },
  vmId: 'i-1',
  transactionId: `tx${n}`,
  blockHeight: 1,
  leaseExpiresAt: 1,
});

/** An EventBridge client that records each PutEvents input and answers with `answer`. */
function eventBridge(
  answer: (
    entries: number,
    call: number,
  ) => { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[],
) {
  const calls: PutEventsCommand['input'][] = [];
  const client = {
    send: async (command: PutEventsCommand) => {
      calls.push(command.input);
      const Entries = answer(command.input.Entries!.length, calls.length);
      return { Entries, FailedEntryCount: Entries.filter((e) => e.ErrorCode).length };
    },
  } as unknown as EventBridgeClient;
  return { client, calls };
}

describe('EventBridgePublisher', () => {
  it('puts 10 entries per call on the named bus, each a TaskAssigned from bcs.scheduler with the event as detail', async () => {
    const { client, calls } = eventBridge((n) => Array.from({ length: n }, (_, i) => ({ EventId: `e${i}` })));
    const events = Array.from({ length: 23 }, (_, i) => assigned(i));

    const failures = await new EventBridgePublisher({ client, eventBusName: 'bus-1' }).publish(events);

    expect(failures).toEqual([]);
    expect(calls.map((c) => c.Entries!.length)).toEqual([10, 10, 3]);
    const entries = calls.flatMap((c) => c.Entries!);
    expect(entries.map((e) => JSON.parse(e.Detail!))).toEqual(events);
    expect(new Set(entries.map((e) => `${e.EventBusName} ${e.Source} ${e.DetailType}`))).toEqual(
      new Set(['bus-1 bcs.scheduler TaskAssigned']),
    );
  });

  it('reports the entries EventBridge refused, by transaction id, matched by position', async () => {
    const { client } = eventBridge((n, call) =>
      Array.from({ length: n }, (_, i) =>
        call === 2 && i === 1
          ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }
          : { EventId: 'ok' },
      ),
    );

    const failures = await new EventBridgePublisher({ client, eventBusName: 'b' }).publish(
      Array.from({ length: 12 }, (_, i) => assigned(i)),
    );

    expect(failures).toEqual([{ transactionId: 'tx11', error: 'ThrottlingException: slow down' }]);
  });

  /** A TaskAssigned whose command makes its entry about `kb` KB (the case: ~75 KB each). */
  const large = (n: number, kb: number): TaskAssigned => {
    const event = assigned(n);
    return { ...event, task: { ...event.task, command: 'x'.repeat(kb * 1024) } };
  };

  it('sizes each call by bytes as EventBridge counts them: four 75 KB events go in two calls', async () => {
    const { client, calls } = eventBridge((n) => Array.from({ length: n }, () => ({ EventId: 'e' })));
    const events = [0, 1, 2, 3].map((i) => large(i, 75));

    const failures = await new EventBridgePublisher({ client, eventBusName: 'b' }).publish(events);

    expect(failures).toEqual([]);
    // 3 x ~75 KB = ~225 KB fits; a fourth would exceed 256 KB.
    expect(calls.map((c) => c.Entries!.length)).toEqual([3, 1]);
    for (const call of calls) {
      expect(call.Entries!.reduce((n, e) => n + entrySize(e), 0)).toBeLessThanOrEqual(MAX_BYTES_PER_PUT);
    }
    expect(calls.flatMap((c) => c.Entries!).map((e) => JSON.parse(e.Detail!).transactionId)).toEqual([
      'tx0',
      'tx1',
      'tx2',
      'tx3',
    ]);
  });

  it('counts UTF-8 bytes, not characters, and Source, DetailType, Resources and Time', () => {
    expect(entrySize({ Source: 'ab', DetailType: 'c', Detail: '"é"' })).toBe(2 + 1 + 4);
    expect(entrySize({ Source: 'a', Resources: ['arn:x', 'arn:yy'], Time: new Date(0) })).toBe(
      1 + 5 + 6 + 14,
    );
  });

  it('reports an event too large for any call as failed, sends the others, and keeps their order', async () => {
    const { client, calls } = eventBridge((n) => Array.from({ length: n }, () => ({ EventId: 'e' })));

    const failures = await new EventBridgePublisher({ client, eventBusName: 'b' }).publish([
      assigned(0),
      large(1, 300),
      assigned(2),
    ]);

    expect(failures).toHaveLength(1);
    expect(failures[0]!.transactionId).toBe('tx1');
    expect(failures[0]!.error).toMatch(/^EntryTooLarge: the event is \d+ bytes/);
    expect(calls.flatMap((c) => c.Entries!).map((e) => JSON.parse(e.Detail!).transactionId)).toEqual([
      'tx0',
      'tx2',
    ]);
  });
});

describe('SsmCommandRunner', () => {
  it("sends the stack's document to the one instance with the template, arguments, execution timeout and comment", async () => {
    const calls: SendCommandCommand['input'][] = [];
    const client = {
      send: async (command: SendCommandCommand) => {
        calls.push(command.input);
        return { Command: { CommandId: 'c-1' } };
      },
    } as unknown as SSMClient;

    const result = await new SsmCommandRunner({ client, documentName: 'bcs-commands' }).send({
      instanceId: 'i-0abc',
      template: 'train',
      arguments: ['--epochs=3', 'data/set-1'],
      timeoutSeconds: 179,
      comment: 'bcs task t1',
    });

    expect(result).toEqual({ commandId: 'c-1' });
    expect(calls).toEqual([
      {
        DocumentName: 'bcs-commands',
        InstanceIds: ['i-0abc'],
        Comment: 'bcs task t1',
        TimeoutSeconds: 60,
        Parameters: {
          template: ['train'],
          arguments: ['--epochs=3 data/set-1'],
          executionTimeout: ['179'],
        },
      },
    ]);
  });

  it('a 4xx answer from SSM is CommandNotSentError; a lost answer or a 5xx stays an ordinary error', async () => {
    const failing = (error: Error) =>
      new SsmCommandRunner({
        client: { send: async () => Promise.reject(error) } as unknown as SSMClient,
        documentName: 'd',
      });
    const request = { instanceId: 'i-1', template: 'x', arguments: [], timeoutSeconds: 1, comment: '' };
    const refused = new InvalidInstanceId({
      message: 'not in a valid state',
      $metadata: { httpStatusCode: 400 },
    });
    const internal = new InvalidInstanceId({ message: 'boom', $metadata: { httpStatusCode: 500 } });

    await expect(failing(refused).send(request)).rejects.toBeInstanceOf(CommandNotSentError);
    await expect(failing(refused).send(request)).rejects.toThrow('InvalidInstanceId: not in a valid state');
    for (const error of [new Error('socket hang up'), internal]) {
      const thrown = await failing(error)
        .send(request)
        .catch((e: unknown) => e);
      expect(thrown).toBe(error);
      expect(thrown).not.toBeInstanceOf(CommandNotSentError);
    }
  });

  it('an answer without a command id is an error, not a command sent', async () => {
    const client = { send: async () => ({}) } as unknown as SSMClient;
    await expect(
      new SsmCommandRunner({ client, documentName: 'd' }).send({
        instanceId: 'i-1',
        template: 'x',
        arguments: [],
        timeoutSeconds: 1,
        comment: '',
      }),
    ).rejects.toThrow(/no command id/);
  });
});
