import { App, Duration, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../../../cdk/lib/constructs/scheduler';
import { actionsOf, DESCRIPTIONS, functionId, statementsOf, synth } from './helpers';

/** The scheduler forwards unplaceable tasks to the DLQ itself: it may send there, and only there. */

let template: Template;
beforeAll(() => {
  template = synth({ maxReceiveCount: 3 }).template();
}, 120_000);

const queueIds = () => {
  const queues = Object.entries(template.findResources('AWS::SQS::Queue'));
  const main = queues.find(([, q]) => q.Properties.RedrivePolicy !== undefined)!;
  const dlqId = (main[1].Properties.RedrivePolicy.deadLetterTargetArn as { 'Fn::GetAtt': string[] })[
    'Fn::GetAtt'
  ][0]!;
  return { taskQueue: main[0], deadLetterQueue: dlqId };
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
    const { deadLetterQueue } = queueIds();
    const fns = template.findResources('AWS::Lambda::Function');
    const scheduler = fns[functionId(template, DESCRIPTIONS.scheduler)]!;
    expect(scheduler.Properties.Environment.Variables).toMatchObject({
      DEAD_LETTER_QUEUE_URL: { Ref: deadLetterQueue },
      MAX_RECEIVE_COUNT: '3',
    });
    for (const d of [DESCRIPTIONS.expire, DESCRIPTIONS.read, DESCRIPTIONS.verify, DESCRIPTIONS.enqueue]) {
      const variables = fns[functionId(template, d)]!.Properties.Environment.Variables;
      expect(Object.keys(variables)).not.toContain('DEAD_LETTER_QUEUE_URL');
    }
  });

  it('refuses a task queue without a dead-letter queue', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Bare');
    const table = new TableV2(stack, 'Table', { partitionKey: { name: 'pk', type: AttributeType.STRING } });
    const build = () =>
      new Scheduler(stack, 'Scheduler', {
        table,
        queue: new Queue(stack, 'Queue'),
        environment: {},
        timeout: Duration.seconds(30),
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        maxConcurrency: 2,
        retainLogs: false,
        leaseSweepInterval: Duration.minutes(1),
      });
    expect(build).toThrow(
      'Scheduler: deadLetterQueue is required when queue has no dead-letter queue: unplaceable tasks must end there',
    );
  });
});
