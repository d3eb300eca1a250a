import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Addresses subscribed by email (each confirms the subscription). @default none */
  readonly emails?: readonly string[];
  /** Keep the topic's key when the stack goes. */
  readonly retain: boolean;
}

/**
 * The SNS topic every alarm of the stack notifies, on ALARM and on OK, so that an alarm reaches
 * someone (an alarm without actions only changes colour in the console).
 */
export class AlarmTopic extends Construct {
  readonly topic: Topic;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    // A customer key, not alias/aws/sns: CloudWatch cannot publish to a topic encrypted with the
    // AWS-managed SNS key (its key policy cannot be changed to admit cloudwatch.amazonaws.com).
    const key = new Key(this, 'Key', {
      description: 'Encrypts the alarm topic; CloudWatch alarms may use it to publish',
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Blockchain cloud scheduler alarms',
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of props.emails ?? []) this.topic.addSubscription(new EmailSubscription(email));
    this.action = new SnsAction(this.topic);
  }

  /** Notifies the topic when `alarm` goes to ALARM and when it returns to OK. */
  notify(...alarms: Alarm[]): void {
    for (const alarm of alarms) {
      alarm.addAlarmAction(this.action);
      alarm.addOkAction(this.action);
    }
  }
}
