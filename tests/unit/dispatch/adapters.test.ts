import type { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvalidInstanceId, type SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../../lib/adapters/eventbridge/eventbridge-publisher';
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
});

describe('SsmCommandRunner', () => {
  it('sends AWS-RunShellScript to the one instance with the lines, execution timeout and comment', async () => {
    const calls: SendCommandCommand['input'][] = [];
    const client = {
      send: async (command: SendCommandCommand) => {
        calls.push(command.input);
        return { Command: { CommandId: 'c-1' } };
      },
    } as unknown as SSMClient;

    const result = await new SsmCommandRunner({ client }).send({
      instanceId: 'i-0abc',
      commands: ['echo hi'],
      timeoutSeconds: 179,
      comment: 'bcs task t1',
    });

    expect(result).toEqual({ commandId: 'c-1' });
    expect(calls).toEqual([
      {
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: ['i-0abc'],
        Comment: 'bcs task t1',
        TimeoutSeconds: 60,
        Parameters: { commands: ['echo hi'], executionTimeout: ['179'] },
      },
    ]);
  });

  it('a 4xx answer from SSM is CommandNotSentError; a lost answer or a 5xx stays an ordinary error', async () => {
    const failing = (error: Error) =>
      new SsmCommandRunner({ client: { send: async () => Promise.reject(error) } as unknown as SSMClient });
    const request = { instanceId: 'i-1', commands: ['x'], timeoutSeconds: 1, comment: '' };
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
      new SsmCommandRunner({ client }).send({
        instanceId: 'i-1',
        commands: ['x'],
        timeoutSeconds: 1,
        comment: '',
      }),
    ).rejects.toThrow(/no command id/);
  });
});
