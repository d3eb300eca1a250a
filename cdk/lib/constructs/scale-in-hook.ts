import { Arn, ArnFormat, type CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { type AutoScalingGroup, DefaultResult, LifecycleTransition } from 'aws-cdk-lib/aws-autoscaling';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { TERMINATE_ACTION_DETAIL_TYPE } from '../../../lib/adapters/autoscaling/termination-lifecycle';
import { VM_PREFIX } from '../../../lib/adapters/dynamodb/keys';
import { statementsOn } from '../ledger-access';
import { ServiceFunction } from '../nodejs-function';
import { grantFleetDrain } from './fleet-monitor';

/** The hook's name on the group. */
export const SCALE_IN_HOOK_NAME = 'bcs-drain-before-terminate';
/**
 * Auto Scaling terminates an instance whose hook got no heartbeat for this long (the function
 * heartbeats every minute while the instance holds tasks); the whole wait is capped by Auto Scaling
 * at 100 heartbeat timeouts or 48 hours, whichever is less: here 16 h 40 min.
 */
export const SCALE_IN_HEARTBEAT_TIMEOUT = Duration.minutes(10);

export interface ScaleInHookProps {
  readonly group: AutoScalingGroup;
  readonly table: ITable;
  /** TABLE_NAME and DIMENSIONS of the functions' shared environment. */
  readonly environment: Record<string, string>;
  readonly vmTagKey: string;
  readonly vmTagValue: string;
  /** How long after a drain a scheduler may still place on the instance: fleet cache TTL + scheduler timeout. */
  readonly settleSeconds: number;
  readonly retainLogs: boolean;
}

/**
 * No lost work on scale-in: a termination lifecycle hook on the workers' group holds every instance
 * the group terminates until the ledger shows it holds no task (lib/scaling/termination.ts). The
 * function runs on the hook's lifecycle event and every minute; it drains the instance, waits out the
 * placements already under way, then completes the action or heartbeats it.
 */
export class ScaleInHook extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: ScaleInHookProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { group } = props;
    group.addLifecycleHook('DrainBeforeTerminate', {
      lifecycleHookName: SCALE_IN_HOOK_NAME,
      lifecycleTransition: LifecycleTransition.INSTANCE_TERMINATING,
      heartbeatTimeout: SCALE_IN_HEARTBEAT_TIMEOUT,
      // For a termination hook both results terminate; CONTINUE also lets other hooks run.
      defaultResult: DefaultResult.CONTINUE,
    });
    this.function = new ServiceFunction(this, 'Settle', {
      entry: 'scale-in.ts',
      description: 'Holds a terminating worker until the ledger shows it holds no task, then releases it',
      serviceName: 'scale-in',
      environment: {
        TABLE_NAME: props.environment.TABLE_NAME!,
        DIMENSIONS: props.environment.DIMENSIONS!,
        AUTO_SCALING_GROUP_NAME: group.autoScalingGroupName,
        LIFECYCLE_HOOK_NAME: SCALE_IN_HOOK_NAME,
        SETTLE_SECONDS: String(props.settleSeconds),
      },
      timeout: Duration.seconds(props.settleSeconds + 60),
      retainLogs: props.retainLogs,
    }).function;

    const allow = statementsOn(this.function);
    // The instances' VM# items, by key: their active task counts.
    allow('ReadReservations', ['dynamodb:GetItem', 'dynamodb:BatchGetItem'], [props.table.tableArn], {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${VM_PREFIX}*`] },
    });
    // DescribeAutoScalingGroups has no resource-level permissions.
    allow('ReadGroup', ['autoscaling:DescribeAutoScalingGroups'], ['*']);
    allow(
      'SettleLifecycleActions',
      ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
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
    grantFleetDrain(this.function, props.vmTagKey, props.vmTagValue);
    const shown = (v: string, name: string) => (Token.isUnresolved(v) ? `<AWS::${name}>` : v);
    const groupId = stack.getLogicalId(group.node.defaultChild as CfnElement);
    Validations.of(this.function.role ?? this.function).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:autoScalingGroup:*:autoScalingGroupName/<${groupId}>]`,
      reason:
        "Lifecycle actions on this stack's group only; the * stands for the group id AWS assigns when it creates the group.",
    });

    new Rule(this, 'Terminating', {
      description: 'A worker of the group is terminating: drain it and release it once it holds no task',
      eventPattern: {
        source: ['aws.autoscaling'],
        detailType: [TERMINATE_ACTION_DETAIL_TYPE],
        detail: {
          AutoScalingGroupName: [group.autoScalingGroupName],
          LifecycleHookName: [SCALE_IN_HOOK_NAME],
        },
      },
      targets: [new LambdaFunction(this.function, { retryAttempts: 2 })],
    });
    new Rule(this, 'Recheck', {
      description: 'Every minute: release held workers whose tasks have ended, heartbeat the others',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
  }
}
