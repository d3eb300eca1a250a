import { type CfnElement, Stack, Token, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnInstanceProfile,
  Effect,
  type IRole,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { agentQueuePrefix } from '../../../lib/adapters/sqs/agent-feed';

export interface AgentFeedProps {
  /** The dispatch function: it creates each instance's queue and sends its assignments there. */
  readonly dispatchFunction: IFunction & { addEnvironment(key: string, value: string): unknown };
  /** The stack's API: the agents read tasks and report completions through it, signed with SigV4. */
  readonly api: RestApi;
  /** Instance roles besides the stack's own agent role that run agents (the Auto Scaling workers'). */
  readonly instanceRoles?: readonly IRole[];
}

/**
 * What `bcs agent` needs on a fleet instance (docs/agent.md "On AWS"): a queue per instance,
 * `<prefix><instance id>`, that the dispatcher creates and fills, and an instance role that may read
 * those queues, read a task and report its completion through the API, and find the API in the
 * stack's outputs. Nothing else: no ledger table, no EC2, no SSM.
 */
export class AgentFeed extends Construct {
  readonly queuePrefix: string;
  /** The role for instances that run an agent; its instance profile is `instanceProfile`. */
  readonly role: Role;
  readonly instanceProfile: CfnInstanceProfile;

  constructor(scope: Construct, id: string, props: AgentFeedProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { region, account, partition } = stack;
    this.queuePrefix = agentQueuePrefix(stack.stackName);
    const queues = `arn:${partition}:sqs:${region}:${account}:${this.queuePrefix}*`;

    props.dispatchFunction.addEnvironment('AGENT_QUEUE_PREFIX', this.queuePrefix);
    props.dispatchFunction.addToRolePolicy(
      new PolicyStatement({
        sid: 'FeedAgentQueues',
        effect: Effect.ALLOW,
        actions: ['sqs:CreateQueue', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        resources: [queues],
      }),
    );

    this.role = new Role(this, 'AgentRole', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      description: 'Instances running bcs agent: their assignment queue, task reads and completions',
    });
    this.instanceProfile = new CfnInstanceProfile(this, 'AgentInstanceProfile', {
      roles: [this.role.roleName],
    });
    // cdk-nag names the resources as rendered: pseudo parameters as <AWS::...>, resources by logical id.
    const shown = (v: string, name: string) => (Token.isUnresolved(v) ? `<AWS::${name}>` : v);
    const where = `${shown(region, 'Region')}:${shown(account, 'AccountId')}`;
    const apiId = stack.getLogicalId(props.api.node.defaultChild as CfnElement);
    const stageId = stack.getLogicalId(props.api.deploymentStage.node.defaultChild as CfnElement);
    const route = (path: string) =>
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:${where}:<${apiId}>/<${stageId}>/${path}]`;
    const queueFinding = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sqs:${where}:${this.queuePrefix}*]`;
    Validations.of(this.node.scope as Construct).acknowledge({
      id: queueFinding,
      reason:
        "The stack's agent queues, one per instance, created by the dispatcher on an instance's first assignment: their names are not known at deploy time.",
    });
    for (const role of [this.role, ...(props.instanceRoles ?? [])]) {
      for (const statement of agentStatements(queues, props.api, stack.stackId))
        role.addToPrincipalPolicy(statement);
      Validations.of(role).acknowledge(
        {
          id: queueFinding,
          reason:
            "The stack's agent queues, one per instance, created on the instance's first assignment: their names are not known at deploy time.",
        },
        {
          id: route('GET/tasks/*'),
          reason: 'GET /tasks/{id} for any task id: the agent asks the ledger before it runs an assignment.',
        },
        {
          id: route('POST/tasks/*/complete'),
          reason:
            'POST /tasks/{id}/complete for any task id: the agent reports the completions of its assignments.',
        },
      );
    }
  }
}

/** The agent's calls, each on its own resources (checked by tests/unit/cdk/iam-simulation.test.ts). */
function agentStatements(queues: string, api: RestApi, stackId: string): PolicyStatement[] {
  return [
    new PolicyStatement({
      sid: 'ReadOwnAssignmentQueue',
      effect: Effect.ALLOW,
      actions: ['sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      resources: [queues],
    }),
    new PolicyStatement({
      sid: 'ReadTasksAndReportCompletions',
      effect: Effect.ALLOW,
      actions: ['execute-api:Invoke'],
      resources: [
        api.arnForExecuteApi('GET', '/tasks/*', api.deploymentStage.stageName),
        api.arnForExecuteApi('POST', '/tasks/*/complete', api.deploymentStage.stageName),
      ],
    }),
    new PolicyStatement({
      sid: 'FindTheApi',
      effect: Effect.ALLOW,
      actions: ['cloudformation:DescribeStacks'],
      resources: [stackId],
    }),
  ];
}
