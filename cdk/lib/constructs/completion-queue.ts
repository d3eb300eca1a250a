import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHECKOV_REASONS, skipCheckov } from '../checkov';

export interface CompletionQueueProps {
  /** Deliveries before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** At least six times the consumer's timeout, so a slow batch is not delivered twice at once. */
  readonly visibilityTimeout: Duration;
  /** Keep the queues when the stack goes (RETAIN); false only for throw-away test stages. */
  readonly retain: boolean;
}

/**
 * Reported completions on their way to the lease closer, the only function besides the scheduler
 * that may write the chain: the API and command-status functions send, it records. A standard
 * queue: the closer's conditional close makes a repeat write nothing, so at-least-once delivery
 * records a completion at most once. A message the closer keeps failing on moves to the dead-letter
 * queue after `maxReceiveCount` deliveries (the lease expiry then closes the task as expired) and the
 * alarm fires.
 */
export class CompletionQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: CompletionQueueProps) {
    super(scope, id);
    const removalPolicy = props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the completion queue’s dead-letter queue; nothing consumes it.',
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      removalPolicy,
    });
    for (const q of [this.queue, this.deadLetterQueue]) {
      skipCheckov(q, { id: 'CKV_AWS_27', reason: CHECKOV_REASONS.sqsManagedEncryption });
    }
    this.deadLetterAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription:
        'Completions reached the completion DLQ: the lease closer could not record them (see its log); their leases expire instead. Inspect and redrive them.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** Lets `fn` send completions (SendMessage only, not the GetQueue* grantSendMessages adds). */
  grantSend(fn: IFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: 'QueueCompletions',
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
      }),
    );
  }
}
