import { type CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  DistributedMap,
  Errors,
  JsonPath,
  LogLevel,
  StateMachine,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { AUDIT_PREFIX, DIGEST_PREFIX } from '../../../lib/adapters/dynamodb/keys';
import { CHECKOV_REASONS, skipCheckov } from '../checkov';
import { grantLedgerKeyRead } from '../ledger-access';
import { ServiceFunction } from '../nodejs-function';

export interface FullAuditProps {
  readonly table: ITable;
  readonly environment: Record<string, string>;
  /** The verify function's signing key: the merge signs the head of a chain it found valid. */
  readonly digestKey: Key;
  /** Range functions at once (the Distributed Map's MaxConcurrency). */
  readonly maxConcurrency: number;
  readonly retainLogs: boolean;
}

/** Range functions stop well inside Lambda's 15-minute limit; ranges are sized for it (docs/aws.md). */
const RANGE_TIMEOUT = Duration.minutes(15);

/**
 * The full re-audit (docs/ledger-format.md section 10.3): a Step Functions state machine whose
 * Distributed Map hands each block range of the execution input (written by the verify function) to the
 * range function, which verifies it and writes its result to an AUDIT#<job>#RANGE# item; then the
 * merge function joins the results, records the job (AUDIT#<job>) and, when the chain is valid, signs
 * its head. A map that fails for good (a range whose reads keep failing) is caught and recorded as a
 * failed job by the same merge function.
 */
export class FullAudit extends Construct {
  readonly rangeFunction: NodejsFunction;
  readonly mergeFunction: NodejsFunction;
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: FullAuditProps) {
    super(scope, id);
    const auditItems = (fn: NodejsFunction, sid: string, prefixes: string[]) =>
      fn.addToRolePolicy(
        new PolicyStatement({
          sid,
          actions: ['dynamodb:PutItem'],
          resources: [props.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes } },
        }),
      );

    this.rangeFunction = new ServiceFunction(this, 'Range', {
      entry: 'audit-range.ts',
      description: 'Full re-audit: verifies one block range of the ledger and records its compact range',
      serviceName: 'audit-range',
      environment: props.environment,
      timeout: RANGE_TIMEOUT,
      memorySize: 1024,
      retainLogs: props.retainLogs,
    }).function;
    grantLedgerKeyRead(this.rangeFunction, props.table);
    auditItems(this.rangeFunction, 'AuditRangeWrite', [`${AUDIT_PREFIX}*`]);

    this.mergeFunction = new ServiceFunction(this, 'Merge', {
      entry: 'audit-merge.ts',
      description: 'Full re-audit: merges the range results, records the job and signs a valid head',
      serviceName: 'audit-merge',
      environment: { ...props.environment, DIGEST_KEY_ID: props.digestKey.keyArn },
      timeout: Duration.minutes(5),
      memorySize: 512,
      retainLogs: props.retainLogs,
    }).function;
    grantLedgerKeyRead(this.mergeFunction, props.table);
    // The job (AUDIT#), the signed digest and the incremental audit's checkpoint (DIGEST#).
    auditItems(this.mergeFunction, 'AuditJobWrite', [`${AUDIT_PREFIX}*`, `${DIGEST_PREFIX}*`]);
    this.mergeFunction.addToRolePolicy(
      new PolicyStatement({
        sid: 'DigestSign',
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: [props.digestKey.keyArn],
      }),
    );
    props.digestKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'FullAuditMergeSigns',
        effect: Effect.ALLOW,
        principals: [this.mergeFunction.role!],
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: ['*'],
      }),
    );

    const verifyRange = new LambdaInvoke(this, 'VerifyRange', {
      lambdaFunction: this.rangeFunction,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    // A range whose reads failed (throttling, a timeout) is run again before the map gives up.
    verifyRange.addRetry({
      errors: [Errors.TASKS_FAILED, Errors.TIMEOUT],
      maxAttempts: 2,
      interval: Duration.seconds(5),
      backoffRate: 3,
    });
    const ranges = new DistributedMap(this, 'VerifyRanges', {
      itemsPath: JsonPath.stringAt('$.ranges'),
      maxConcurrency: props.maxConcurrency,
      // Each iteration returns { from, to, valid }: the results themselves are in the table.
      resultPath: JsonPath.DISCARD,
    });
    ranges.itemProcessor(verifyRange);
    const merge = new LambdaInvoke(this, 'MergeRanges', {
      lambdaFunction: this.mergeFunction,
      payload: TaskInput.fromObject({ job_id: JsonPath.stringAt('$.job_id') }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    const recordFailure = new LambdaInvoke(this, 'RecordFailure', {
      lambdaFunction: this.mergeFunction,
      payload: TaskInput.fromObject({
        job_id: JsonPath.stringAt('$.job_id'),
        error: JsonPath.objectAt('$.error'),
      }),
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    });
    ranges.addCatch(recordFailure, { resultPath: '$.error' });

    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    skipCheckov(logGroup, { id: 'CKV_AWS_158', reason: CHECKOV_REASONS.logsDefaultEncryption });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      comment: 'Full re-audit of the ledger: block ranges verified in parallel, then merged',
      definitionBody: DefinitionBody.fromChainable(ranges.next(merge)),
      timeout: Duration.hours(6),
      tracingEnabled: true,
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    // cdk-nag names each wildcard by the resolved resource: logical ids, and the stack's region and
    // account when they are known.
    const stack = Stack.of(this);
    const logicalId = (c: Construct) => stack.getLogicalId(c.node.defaultChild as CfnElement);
    const pseudo = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
    const executions = `arn:<AWS::Partition>:states:${pseudo(stack.region, 'Region')}:${pseudo(stack.account, 'AccountId')}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(this.stateMachine)}"}]}]}`;
    const invoke =
      'Invoking the function by ARN with any version qualifier (the LambdaInvoke grant): only this function.';
    const children =
      "The Distributed Map's child executions of this state machine only (their names are generated).";
    Validations.of(this.stateMachine).acknowledge(
      { id: `AwsSolutions-IAM5[Resource::<${logicalId(this.rangeFunction)}.Arn>:*]`, reason: invoke },
      { id: `AwsSolutions-IAM5[Resource::<${logicalId(this.mergeFunction)}.Arn>:*]`, reason: invoke },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray tracing and CloudWatch Logs delivery (logs:CreateLogDelivery and friends) have no resource-level permissions; AWS documents Resource "*" for them.',
      },
      { id: `AwsSolutions-IAM5[Resource::${executions}:*]`, reason: children },
      { id: `AwsSolutions-IAM5[Resource::${executions}/*:*]`, reason: children },
    );
  }
}
