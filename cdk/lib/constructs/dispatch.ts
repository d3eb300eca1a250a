import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DISPATCH_COMMAND_PREFIX,
  DISPATCH_RUN_PREFIX,
  DISPATCH_SPEC_PREFIX,
} from '../../../lib/adapters/dynamodb/dispatch-records';
import { BLOCK_PREFIX, PARTITION_KEY, TASK_PREFIX } from '../../../lib/adapters/dynamodb/keys';
import { COMMAND_STATUS_DETAIL_TYPE, FINAL_COMMAND_STATUSES } from '../../../lib/dispatch/command';
import type { CommandTemplates } from '../../../lib/dispatch/command-templates';
import { CHECKOV_REASONS, skipCheckov } from '../checkov';
import { grantLedgerKeyRead } from '../ledger-access';
import { ServiceFunction } from '../nodejs-function';
import { CommandDocument } from './command-document';
import type { CompletionQueue } from './completion-queue';

export interface DispatchProps {
  /** The ledger table, created with its NEW_IMAGE stream. */
  readonly table: ITable;
  /** The scheduler function: it records each task's command and labels before deciding it. */
  readonly scheduler: NodejsFunction;
  /** The scheduling environment (table, dimensions, fleet tag...), for the completion function. */
  readonly environment: Record<string, string>;
  /** Run tasks' commands with SSM Run Command, on instances carrying this tag only. */
  readonly viaSsm: boolean;
  /** With `viaSsm`: the only commands that run (cdk/lib/constructs/command-document.ts). */
  readonly commandTemplates: CommandTemplates;
  readonly vmTagKey: string;
  readonly vmTagValue: string;
  readonly retainLogs: boolean;
  /** Where the command-status function queues completions (the lease closer records them). */
  readonly completions: CompletionQueue;
}

/** `dynamodb:LeadingKeys` patterns for key prefixes. */
const prefixes = (...keys: string[]) => keys.map((k) => `${k}*`);

/**
 * Dispatch as a transactional outbox: the ledger table's stream, filtered to inserted blocks, drives
 * a function that publishes a TaskAssigned event per assignment to its own bus and, with `viaSsm`,
 * sends the task's command to the instance with Run Command; SSM's status events queue the task's
 * completion for the lease closer.
 */
export class Dispatch extends Construct {
  readonly bus: EventBus;
  readonly function: NodejsFunction;
  /** Stream batches that failed every retry, kept 14 days for inspection. */
  readonly failures: Queue;
  /** Fires when a stream batch gave up: its assignments were not published (nor their commands sent). */
  readonly failureAlarm: Alarm;
  readonly commandStatusFunction?: NodejsFunction;
  /** With `viaSsm`: the document the dispatcher sends, the only one it may. */
  readonly commandDocument?: CommandDocument;

  constructor(scope: Construct, id: string, props: DispatchProps) {
    super(scope, id);
    if (!props.table.tableStreamArn) throw new Error('Dispatch: the ledger table needs its stream');
    const { region, account, partition } = Stack.of(this);

    this.bus = new EventBus(this, 'Assignments', {
      description:
        'TaskAssigned events: one per committed assignment, at least once (dedupe on transactionId)',
    });
    this.failures = new Queue(this, 'Failures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    skipCheckov(this.failures, { id: 'CKV_AWS_27', reason: CHECKOV_REASONS.sqsManagedEncryption });
    this.failureAlarm = new Alarm(this, 'FailureAlarm', {
      alarmDescription:
        'Dispatch gave up on committed blocks: their TaskAssigned events were not published. The failure queue names the stream records; re-publish from the ledger.',
      metric: this.failures.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is a dead-letter queue: the on-failure destination of the stream event source mapping.',
    });

    this.function = new ServiceFunction(this, 'Dispatch', {
      entry: 'dispatch.ts',
      description: 'Publishes TaskAssigned events for committed blocks (and sends their commands with SSM)',
      serviceName: 'dispatch',
      environment: {
        TABLE_NAME: props.environment.TABLE_NAME!,
        DIMENSIONS: props.environment.DIMENSIONS!,
        EVENT_BUS_NAME: this.bus.eventBusName,
        DISPATCH_VIA_SSM: String(props.viaSsm),
      },
      // A batch is up to 10 blocks, and a block whose commands SSM refuses waits 2 s + 8 s before it
      // gives up on them (functions/dispatch.ts): room for that on every block of a batch.
      timeout: Duration.seconds(props.viaSsm ? 180 : 60),
      retainLogs: props.retainLogs,
    }).function;
    this.function.addEventSource(
      new DynamoEventSource(props.table, {
        // The outbox must not skip what was committed before the mapping existed.
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 10,
        // The handler reports the first failed record; Lambda resumes there.
        reportBatchItemFailures: true,
        retryAttempts: 10,
        maxRecordAge: Duration.days(1),
        onFailure: new SqsDlq(this.failures),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { Keys: { [PARTITION_KEY]: { S: FilterRule.beginsWith(BLOCK_PREFIX) } } },
          }),
        ],
      }),
    );
    this.bus.grantPutEventsTo(this.function);
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'ReadTasksAndDispatchRecords',
        effect: Effect.ALLOW,
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': prefixes(TASK_PREFIX, DISPATCH_SPEC_PREFIX, DISPATCH_RUN_PREFIX),
          },
        },
      }),
    );
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'ClaimCommands',
        effect: Effect.ALLOW,
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': prefixes(DISPATCH_RUN_PREFIX, DISPATCH_COMMAND_PREFIX),
          },
        },
      }),
    );

    // Once a task is final its records get an expiry (the table's TTL attribute): spec, claim, command id.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'ExpireDispatchRecords',
        effect: Effect.ALLOW,
        actions: ['dynamodb:UpdateItem'],
        resources: [props.table.tableArn],
        conditions: {
          'ForAllValues:StringLike': {
            'dynamodb:LeadingKeys': prefixes(
              DISPATCH_SPEC_PREFIX,
              DISPATCH_RUN_PREFIX,
              DISPATCH_COMMAND_PREFIX,
            ),
          },
        },
      }),
    );

    props.scheduler.addEnvironment('DISPATCH_SPECS', 'true');
    props.scheduler.addToRolePolicy(
      new PolicyStatement({
        sid: 'RecordTaskSpecs',
        effect: Effect.ALLOW,
        actions: ['dynamodb:PutItem'],
        resources: [props.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes(DISPATCH_SPEC_PREFIX) } },
      }),
    );

    if (!props.viaSsm) return;
    // Commands refused on every attempt go to the failure queue with their whole assignment (its
    // alarm fires), instead of being lost with the consumed stream record.
    this.function.addEnvironment('UNDELIVERED_COMMANDS_QUEUE_URL', this.failures.queueUrl);
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'DeadLetterUndeliveredCommands',
        effect: Effect.ALLOW,
        actions: ['sqs:SendMessage'],
        resources: [this.failures.queueArn],
      }),
    );
    // Only the stack's own document, which runs allow-listed templates as an unprivileged user: never
    // AWS-RunShellScript (any shell text, as root).
    const document = new CommandDocument(this, 'Commands', { templates: props.commandTemplates });
    this.commandDocument = document;
    this.function.addEnvironment('COMMAND_DOCUMENT_NAME', document.documentName);
    this.function.addEnvironment('COMMAND_TEMPLATES', JSON.stringify(props.commandTemplates));
    // A condition on the instance's tag cannot apply to the document (it has no tags): two statements.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'CommandTemplateDocument',
        effect: Effect.ALLOW,
        actions: ['ssm:SendCommand'],
        resources: [document.documentArn],
      }),
    );
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'RunOnFleetInstances',
        effect: Effect.ALLOW,
        actions: ['ssm:SendCommand'],
        resources: [`arn:${partition}:ec2:${region}:${account}:instance/*`],
        conditions: { StringEquals: { [`ssm:resourceTag/${props.vmTagKey}`]: props.vmTagValue } },
      }),
    );

    const status = new ServiceFunction(this, 'CommandStatus', {
      entry: 'command-status.ts',
      description: 'Completes the task of a dispatched command once SSM reports it finished',
      serviceName: 'command-status',
      environment: { ...props.environment, COMPLETION_QUEUE_URL: props.completions.queue.queueUrl },
      timeout: Duration.seconds(30),
      retainLogs: props.retainLogs,
    }).function;
    // Reads the command's DISPATCH# record and the task's TASK# record by key, and queues the
    // completion for the lease closer: it writes nothing of the table.
    grantLedgerKeyRead(status, props.table);
    props.completions.grantSend(status);
    new Rule(this, 'CommandFinished', {
      description: 'Run Command invocations of the command document that reached a final status',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: [COMMAND_STATUS_DETAIL_TYPE],
        detail: { 'document-name': [document.documentName], status: [...FINAL_COMMAND_STATUSES] },
      },
      targets: [new LambdaFunction(status, { retryAttempts: 2 })],
    });
    this.commandStatusFunction = status;
    // cdk-nag names the resource as rendered: pseudo parameters as <AWS::...>, known values as they are.
    const shown = (v: string, name: string) => (Token.isUnresolved(v) ? `<AWS::${name}>` : v);
    Validations.of(this).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:${shown(region, 'Region')}:${shown(account, 'AccountId')}:instance/*]`,
      reason:
        'SendCommand may target any instance only under the condition that it carries the fleet tag (ssm:resourceTag); the instances are not known at deploy time.',
    });
  }
}
