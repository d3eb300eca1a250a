import { App, Duration, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../../cdk/lib/constructs/scheduler';
import { actionsOf, DESCRIPTIONS, functionId, statementsOf, synth } from './helpers';

/**
 * The scheduler forwards unplaceable tasks to the DLQ itself: it may send there, and only there. The
 * task queue's redrive target is the exhausted queue, which the scheduler consumes too (tasks SQS gave
 * up on are recorded as rejected before they reach the DLQ).
 */

let template: Template;
beforeAll(() => {
  template = synth({ maxReceiveCount: 3 }).template();
}, 120_000);

const queueIds = () => {
  const queues = Object.entries(template.findResources('AWS::SQS::Queue'));
  const main = queues.find(([, q]) => q.Properties.RedrivePolicy !== undefined)!;
  const exhausted = (main[1].Properties.RedrivePolicy.deadLetterTargetArn as { 'Fn::GetAtt': string[] })[
    'Fn::GetAtt'
  ][0]!;
  const dlq = queues.find(([id]) => id !== main[0] && id !== exhausted && /TasksDeadLetterQueue/.test(id))!;
  return { taskQueue: main[0], exhaustedQueue: exhausted, deadLetterQueue: dlq[0] };
};

describe('the scheduler and the dead-letter queue', () => {
  it('may SendMessage to the DLQ only, and to no other queue', () => {
    const { deadLetterQueue } = queueIds();
    const statements = statementsOf(template, DESCRIPTIONS.scheduler);
    const sends = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('sqs:Send')));
    expect(sends).toHaveLength(1);
    expect(actionsOf(sends)).toEqual(['sqs:SendMessage']);
    expect(sends[0]!.Resource).toEqual({ 'Fn::GetAtt': [deadLetterQueue, 'Arn'] });
  });

  it("is told the DLQ's URL and the task queue's maxReceiveCount; no other function is", () => {
    const { deadLetterQueue, exhaustedQueue } = queueIds();
    expect(exhaustedQueue).not.toBe(deadLetterQueue);
    const fns = template.findResources('AWS::Lambda::Function');
    const scheduler = fns[functionId(template, DESCRIPTIONS.scheduler)]!;
    expect(scheduler.Properties.Environment.Variables).toMatchObject({
      DEAD_LETTER_QUEUE_URL: { Ref: deadLetterQueue },
      MAX_RECEIVE_COUNT: '3',
      EXHAUSTED_QUEUE_ARN: { 'Fn::GetAtt': [exhaustedQueue, 'Arn'] },
    });
    for (const d of [DESCRIPTIONS.expire, DESCRIPTIONS.read, DESCRIPTIONS.verify, DESCRIPTIONS.enqueue]) {
      const variables = fns[functionId(template, d)]!.Properties.Environment.Variables;
      expect(Object.keys(variables)).not.toContain('DEAD_LETTER_QUEUE_URL');
    }
  });

  it('consumes the task queue and the exhausted queue (the redrive target), each reporting item failures', () => {
    const { taskQueue, exhaustedQueue } = queueIds();
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    const scheduler = functionId(template, DESCRIPTIONS.scheduler);
    const mine = mappings.filter((m) => m.Properties.FunctionName?.Ref === scheduler);
    expect(mine.map((m) => m.Properties.EventSourceArn['Fn::GetAtt'][0]).sort()).toEqual(
      [taskQueue, exhaustedQueue].sort(),
    );
    for (const m of mine) expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    // Nothing leaves the exhausted queue but through the scheduler: no redrive, the longest retention.
    const exhausted = template.findResources('AWS::SQS::Queue')[exhaustedQueue]!;
    expect(exhausted.Properties.RedrivePolicy).toBeUndefined();
    expect(exhausted.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('refuses a task queue without a redrive target', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bare');
    const table = new TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const build = () =>
      new Scheduler(stack, 'Scheduler', {
        table,
        queue: new Queue(stack, 'Queue'),
        deadLetterQueue: new Queue(stack, 'Dlq'),
        environment: {},
        timeout: Duration.seconds(30),
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        maxConcurrency: 2,
        retainLogs: false,
        leaseSweepInterval: Duration.minutes(1),
        completionQueue: new Queue(stack, 'Completions'),
      });
    expect(build).toThrow(
      'Scheduler: exhaustedQueue is required when queue has no redrive target: tasks it gives up on must be recorded',
    );
  });
});
