import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import {
  AutoScalingGroupProtection,
  MAX_INSTANCES_PER_CALL,
  SqsBacklog,
  scalingMetricData,
} from '../../../lib/adapters/autoscaling';
import type { ScalingSnapshot } from '../../../lib/scaling';

/** A client whose `send` records each command's input and answers from `reply`. */
function recordingClient<C>(reply: (name: string, input: Record<string, unknown>) => unknown) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ name, input: command.input });
      return reply(name, command.input);
    },
  } as unknown as C;
  return { client, calls };
}

describe('scalingMetricData', () => {
  it('stamps every datum with the snapshot time and the fleet, utilisation as statistic sets', () => {
    const snapshot: ScalingSnapshot = {
      at: Date.UTC(2026, 10, 21, 8, 0),
      backlog: 9,
      activeInstances: 2,
      drainingInstances: 1,
      freeToTerminate: 1,
      backlogPerInstance: 4.5,
      utilisation: [{ dimension: 'cpu', count: 2, sum: 0.5, min: 0, max: 0.5 }],
    };
    const data = scalingMetricData(snapshot, 'prod-stack');
    const fleet = { Name: 'Fleet', Value: 'prod-stack' };
    const at = new Date(snapshot.at);
    expect(data).toEqual([
      { MetricName: 'Backlog', Dimensions: [fleet], Timestamp: at, Value: 9, Unit: 'Count' },
      { MetricName: 'BacklogPerInstance', Dimensions: [fleet], Timestamp: at, Value: 4.5, Unit: 'None' },
      { MetricName: 'ActiveInstances', Dimensions: [fleet], Timestamp: at, Value: 2, Unit: 'Count' },
      { MetricName: 'DrainingInstances', Dimensions: [fleet], Timestamp: at, Value: 1, Unit: 'Count' },
      { MetricName: 'FreeToTerminate', Dimensions: [fleet], Timestamp: at, Value: 1, Unit: 'Count' },
      {
        MetricName: 'Utilisation',
        Dimensions: [fleet, { Name: 'Resource', Value: 'cpu' }],
        Timestamp: at,
        StatisticValues: { SampleCount: 2, Sum: 0.5, Minimum: 0, Maximum: 0.5 },
        Unit: 'None',
      },
    ]);
  });
});

describe('SqsBacklog', () => {
  it('adds visible, in-flight and delayed messages', async () => {
    const { client, calls } = recordingClient<SQSClient>(() => ({
      Attributes: {
        ApproximateNumberOfMessages: '7',
        ApproximateNumberOfMessagesNotVisible: '3',
        ApproximateNumberOfMessagesDelayed: '2',
      },
    }));
    expect(await new SqsBacklog(client, 'https://sqs/q').backlog()).toBe(12);
    expect(calls[0]!.input.AttributeNames).toEqual([
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ]);
  });

  it('refuses an answer without an attribute rather than reading it as an empty queue', async () => {
    const { client } = recordingClient<SQSClient>(() => ({
      Attributes: { ApproximateNumberOfMessages: '7' },
    }));
    await expect(new SqsBacklog(client, 'https://sqs/q').backlog()).rejects.toThrow(
      'SQS returned no usable ApproximateNumberOfMessagesNotVisible for https://sqs/q (got undefined)',
    );
  });
});

describe('AutoScalingGroupProtection', () => {
  it('reads in-service and pending instances of the group only', async () => {
    const { client } = recordingClient<AutoScalingClient>(() => ({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'g',
          Instances: [
            { InstanceId: 'i-a', LifecycleState: 'InService', ProtectedFromScaleIn: true },
            { InstanceId: 'i-b', LifecycleState: 'Pending', ProtectedFromScaleIn: false },
            { InstanceId: 'i-c', LifecycleState: 'Terminating', ProtectedFromScaleIn: true },
          ],
        },
      ],
    }));
    expect(await new AutoScalingGroupProtection(client, 'g').instances()).toEqual([
      { id: 'i-a', protectedFromScaleIn: true },
      { id: 'i-b', protectedFromScaleIn: false },
    ]);
  });

  it('fails on a group that does not exist (the API answers an empty list)', async () => {
    const { client } = recordingClient<AutoScalingClient>(() => ({ AutoScalingGroups: [] }));
    await expect(new AutoScalingGroupProtection(client, 'missing').instances()).rejects.toThrow(
      'no Auto Scaling group named missing',
    );
  });

  it('sends protect then release in calls of at most 50 instances, nothing when nothing changes', async () => {
    const { client, calls } = recordingClient<AutoScalingClient>(() => ({}));
    const protection = new AutoScalingGroupProtection(client, 'g');
    const ids = Array.from(
      { length: MAX_INSTANCES_PER_CALL + 1 },
      (_, i) => `i-${String(i).padStart(3, '0')}`,
    );
    await protection.apply({ protect: ids, release: ['i-x'] });
    expect(
      calls.map((c) => [c.input.ProtectedFromScaleIn, (c.input.InstanceIds as string[]).length]),
    ).toEqual([
      [true, 50],
      [true, 1],
      [false, 1],
    ]);
    expect(
      calls.every((c) => c.name === 'SetInstanceProtection' && c.input.AutoScalingGroupName === 'g'),
    ).toBe(true);
    calls.length = 0;
    await protection.apply({ protect: [], release: [] });
    expect(calls).toEqual([]);
  });
});
