import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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

/** The task queue, its dead-letter queue, and the alarm that fires when anything lands there. */
export class TaskQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly deadLetterAlarm: Alarm;

  constructor(scope: Construct, id: string, props: TaskQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    for (const q of [this.queue, this.deadLetterQueue]) {
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
  }
}
