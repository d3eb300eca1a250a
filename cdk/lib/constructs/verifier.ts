import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AccountRootPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AUDIT_PREFIX, DIGEST_PREFIX } from '../../../lib/adapters/dynamodb/keys';
import { VERIFY_METRICS } from '../../../lib/schemas/metric-names';
import { grantLedgerKeyRead } from '../ledger-access';
import { METRICS_NAMESPACE, ServiceFunction } from '../nodejs-function';

export interface VerifierProps {
  readonly table: ITable;
  readonly environment: Record<string, string>;
  readonly interval: Duration;
  /**
   * Concurrent executions reserved for the verify function, which also caps it: POST /ledger/verify and
   * the schedule can never hold more verify functions than this, nor take the scheduler's concurrency.
   * @default none reserved (the stack passes its verifyReservedConcurrency, 2 unless set)
   */
  readonly reservedConcurrency?: number;
  /** Also keeps the digest-signing key when the stack goes: auditors' signed digests name it. */
  readonly retainLogs: boolean;
}

/**
 * What the account may do with the signing key through IAM: administer it, read its public key. Not
 * Sign: the key policy grants that to the verify function's role alone, so no IAM policy elsewhere in
 * the account can hand it out.
 */
const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
];
const SIGNER_ACTIONS = ['kms:Sign', 'kms:GetPublicKey'];

/** A signing key's policy before its signer is added: the account administers it, nobody signs. */
export function keyAdministrationPolicy(): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'KeyAdministration',
        effect: Effect.ALLOW,
        principals: [new AccountRootPrincipal()],
        actions: KEY_ADMIN_ACTIONS,
        resources: ['*'],
      }),
    ],
  });
}

/**
 * Full-chain verification on a schedule (and, through the API, on request), with the alarm that
 * fires when the chain does not verify.
 */
export class Verifier extends Construct {
  readonly function: NodejsFunction;
  readonly invalidChainAlarm: Alarm;
  /** The asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs head digests. */
  readonly digestKey: Key;
  private readonly table: ITable;

  constructor(scope: Construct, id: string, props: VerifierProps) {
    super(scope, id);
    this.digestKey = new Key(this, 'DigestKey', {
      description:
        'Signs ledger head digests (docs/ledger-format.md section 10); Sign for the verify function only',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      // Automatic rotation exists for symmetric keys only; a new signing key is a new key id.
      enableKeyRotation: false,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
      policy: keyAdministrationPolicy(),
    });
    this.function = new ServiceFunction(this, 'Verify', {
      entry: 'verify.ts',
      description:
        'Verifies the ledger after its saved checkpoint (hash links, Merkle roots, block hashes) and signs the head',
      serviceName: 'verify',
      environment: { ...props.environment, DIGEST_KEY_ID: this.digestKey.keyArn },
      timeout: Duration.minutes(5),
      ...(props.reservedConcurrency !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      memorySize: 1024,
      retainLogs: props.retainLogs,
    }).function;
    grantLedgerKeyRead(this.function, props.table);
    this.digestKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'VerifyFunctionSigns',
        effect: Effect.ALLOW,
        principals: [this.function.role!],
        actions: SIGNER_ACTIONS,
        resources: ['*'],
      }),
    );
    this.function.addToRolePolicy(
      new PolicyStatement({ sid: 'DigestSign', actions: SIGNER_ACTIONS, resources: [this.digestKey.keyArn] }),
    );
    // Signed digests are DIGEST# items; the verify function writes nothing else.
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'DigestPublish',
        actions: ['dynamodb:PutItem'],
        resources: [props.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${DIGEST_PREFIX}*`] } },
      }),
    );

    // A failed scheduled run is replaced by the next one: Lambda's own async retries (2 by default)
    // would re-run a verification the next run supersedes.
    this.function.configureAsyncInvoke({ retryAttempts: 0 });
    new Rule(this, 'Schedule', {
      description:
        'Periodic incremental verification of the ledger (resumes from its checkpoint), and a signed digest of its head',
      schedule: Schedule.rate(props.interval),
      targets: [new LambdaFunction(this.function, { retryAttempts: 2 })],
    });

    this.table = props.table;
    this.invalidChainAlarm = new Alarm(this, 'InvalidChainAlarm', {
      alarmDescription:
        'The ledger failed verification, or verification stopped reporting. Run POST /ledger/verify for the first bad block.',
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: VERIFY_METRICS.chainValid,
        dimensionsMap: { service: 'verify' },
        statistic: 'Minimum',
        // Periods of twice the interval, 2 of 3 breaching: one run that starts or ends late leaves
        // a period empty without raising the alarm; a verifier that stopped, or one invalid run in
        // two consecutive periods, does.
        period: props.interval.plus(props.interval),
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      // A verifier that stops running is as bad as a failed verification: missing data alarms.
      treatMissingData: TreatMissingData.BREACHING,
    });
  }

  /**
   * POST /ledger/verify {"full": true}: the verify function records the job (AUDIT#<job>) and starts the
   * full-audit state machine (cdk/lib/constructs/full-audit.ts) with the job's ranges.
   */
  startsFullAudits(stateMachine: IStateMachine, blocksPerRange: number): void {
    this.function.addEnvironment('AUDIT_STATE_MACHINE_ARN', stateMachine.stateMachineArn);
    this.function.addEnvironment('AUDIT_BLOCKS_PER_RANGE', String(blocksPerRange));
    stateMachine.grantStartExecution(this.function);
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'AuditJobCreate',
        actions: ['dynamodb:PutItem'],
        resources: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${AUDIT_PREFIX}*`] } },
      }),
    );
  }
}
