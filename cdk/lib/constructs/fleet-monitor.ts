import { Arn, ArnFormat, Aws, type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { AutoScalingGroup } from 'aws-cdk-lib/aws-autoscaling';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DRAINING_TAG } from '../../../lib/adapters/autoscaling/ec2-drain';
import { grantFleetRead, grantLedgerKeyRead, statementsOn } from '../ledger-access';
import { METRICS_NAMESPACE, ServiceFunction } from '../nodejs-function';

export interface FleetMonitorProps {
  readonly table: ITable;
  /** The task queue whose messages are the backlog. */
  readonly queue: IQueue;
  /** Environment shared with the other functions (table, dimensions, fleet selection). */
  readonly environment: Record<string, string>;
  /** Value of the metrics' Fleet dimension. @default the stack name */
  readonly fleetName?: string;
  /** The Auto Scaling group whose scale-in protection follows the ledger. @default none: metrics only */
  readonly autoScalingGroup?: AutoScalingGroup;
  readonly retainLogs: boolean;
}

/**
 * The fleet monitor (functions/fleet-monitor.ts) on a one-minute schedule: backlog per instance and
 * utilisation into CloudWatch, and with a group, scale-in protection for the instances holding tasks.
 */
export class FleetMonitor extends Construct {
  readonly function: NodejsFunction;
  /** Value of the Fleet dimension of every metric it publishes. */
  readonly fleetName: string;

  constructor(scope: Construct, id: string, props: FleetMonitorProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.fleetName = props.fleetName ?? stack.stackName;
    const group = props.autoScalingGroup;
    this.function = new ServiceFunction(this, 'Monitor', {
      entry: 'fleet-monitor.ts',
      description:
        'Publishes backlog per instance and utilisation, keeps busy instances protected from scale-in',
      serviceName: 'fleet-monitor',
      environment: {
        ...props.environment,
        QUEUE_URL: props.queue.queueUrl,
        FLEET_NAME: this.fleetName,
        ...(group ? { AUTO_SCALING_GROUP_NAME: group.autoScalingGroupName } : {}),
      },
      timeout: Duration.seconds(50),
      retainLogs: props.retainLogs,
    }).function;
    grantLedgerKeyRead(this.function, props.table);
    grantFleetRead(this.function);
    const allow = statementsOn(this.function);
    allow('ReadBacklog', ['sqs:GetQueueAttributes'], [props.queue.queueArn]);
    // PutMetricData has no resource-level permissions; the namespace condition is the narrowing AWS offers.
    allow('PublishScalingMetrics', ['cloudwatch:PutMetricData'], ['*'], {
      StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE },
    });
    if (group) {
      allow('ReadGroup', ['autoscaling:DescribeAutoScalingGroups'], ['*']);
      allow(
        'ProtectBusyInstances',
        ['autoscaling:SetInstanceProtection'],
        [
          Arn.format(
            {
              service: 'autoscaling',
              resource: 'autoScalingGroup',
              resourceName: `*:autoScalingGroupName/${group.autoScalingGroupName}`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            stack,
          ),
        ],
      );
      // The group's ARN has an id AWS assigns at creation, hence the * before its name.
      const shown = (v: string, name: string) => (Token.isUnresolved(v) ? `<AWS::${name}>` : v);
      const groupId = stack.getLogicalId(group.node.defaultChild as CfnElement);
      Validations.of(this.function.role ?? this.function).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:autoScalingGroup:*:autoScalingGroupName/<${groupId}>]`,
        reason:
          "SetInstanceProtection on this stack's group only; the * stands for the group id AWS assigns when it creates the group.",
      });
    }
    // The rule's retryAttempts covers EventBridge's delivery; this covers Lambda's own async retries.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    new Rule(this, 'Schedule', {
      description: 'Fleet monitor: scaling metrics and scale-in protection every minute',
      schedule: Schedule.rate(Duration.minutes(1)),
      // A missed minute is replaced by the next one; retrying a stale run would publish old figures.
      targets: [new LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
  }
}

/**
 * POST /fleet/vms/{id}/drain: the tag bcs:draining on instances of the fleet only. CreateTags is
 * limited by the instance's fleet tag and by the tag keys the request sets, so the API cannot tag
 * any other instance of the account nor any other key (the fleet tag itself included).
 */
export function grantFleetDrain(fn: IFunction, vmTagKey: string, vmTagValue: string): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      sid: 'DrainFleetInstances',
      effect: Effect.ALLOW,
      actions: ['ec2:CreateTags'],
      resources: [INSTANCES],
      conditions: {
        StringEquals: { [`aws:ResourceTag/${vmTagKey}`]: vmTagValue },
        'ForAllValues:StringEquals': { 'aws:TagKeys': [DRAINING_TAG] },
      },
    }),
  );
  // On the role: the finding is on its default policy, a sibling of the function.
  Validations.of(fn.role ?? fn).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]',
    reason: `CreateTags of ${DRAINING_TAG} only, and only on instances tagged ${vmTagKey}=${vmTagValue} (aws:ResourceTag and aws:TagKeys conditions): the fleet's instances are not known at deploy time.`,
  });
}

const INSTANCES = `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:instance/*`;
