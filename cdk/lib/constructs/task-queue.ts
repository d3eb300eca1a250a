import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHECKOV_REASONS, skipCheckov } from '../checkov';

export interface TaskQueueProps {
  /** Deliveries before a message moves to the DLQ. */
  readonly maxReceiveCount: number;
  /** At least six times the consumer's timeout, so a slow batch is not delivered twice at once. */
  readonly visibilityTimeout: Duration;
  /**
   * Keep both queues when the stack goes (RETAIN): tasks accepted but not yet scheduled, and the
   * dead letters, outlive a mistaken `cdk destroy`. False only for throw-away test stages.
   */
  readonly retain: boolean;
}

/**
 * The task queue, its dead-letter queue, and the alarm that fires when anything lands there. Between
 * them, the exhausted queue: the task queue's redrive target after `maxReceiveCount` deliveries. The
 * scheduler consumes it too and records each task it holds as rejected before forwarding it to the
 * DLQ, so every task in the DLQ has its ledger entry, and a task whose recording still fails stays
 * on the exhausted queue (14 days; an alarm when its oldest message waits over 15 minutes).
 */
export class TaskQueue extends Construct {
  readonly queue: Queue;
  readonly exhaustedQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;
  readonly exhaustedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: TaskQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue: the scheduler forwards to it the tasks it recorded as rejected (and messages holding no valid task); nothing consumes it.',
    });
    this.exhaustedQueue = new Queue(this, 'ExhaustedQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.exhaustedQueue, maxReceiveCount: props.maxReceiveCount },
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const q of [this.queue, this.exhaustedQueue, this.deadLetterQueue]) {
      skipCheckov(q, { id: 'CKV_AWS_27', reason: CHECKOV_REASONS.sqsManagedEncryption });
    }
    this.deadLetterAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: 'Task messages reached the DLQ: they were never scheduled. Inspect and redrive them.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.exhaustedAlarm = new Alarm(this, 'ExhaustedAlarm', {
      alarmDescription:
        'Tasks the task queue gave up on could not be recorded as rejected for 15 minutes: the ledger store keeps failing (see the scheduler log).',
      metric: this.exhaustedQueue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 15 * 60,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
