import { type CfnElement, CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Distribution, ViewerProtocolPolicy } from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type Key, KeySpec, KeyUsage, Key as KmsKey } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectLockRetention } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { TLOG_METRICS } from '../../../lib/schemas/metric-names';
import { skipCheckov } from '../checkov';
import { grantLedgerRead } from '../ledger-access';
import { METRICS_NAMESPACE, ServiceFunction } from '../nodejs-function';
import { keyAdministrationPolicy } from './verifier';

export interface LogPublisherProps {
  readonly table: ITable;
  readonly environment: Record<string, string>;
  /** The digest key (ECC_NIST_P256): checkpoints carry its note signature (type 0x02). */
  readonly digestKey: Key;
  /** Checkpoint origin; unset, bcs-ledger/<digest key fingerprint>. */
  readonly origin?: string;
  readonly interval: Duration;
  /** Witnesses (C2SP tlog-witness): URL and verifier key. Empty: none, and no Ed25519 key. */
  readonly witnesses: readonly { url: string; key: string }[];
  /** Alarm when no witness cosignature was obtained for this long (with witnesses only). */
  readonly witnessAlarmPeriod: Duration;
  /** S3 Object Lock in compliance mode with this default retention, days; 0: no Object Lock. */
  readonly objectLockDays: number;
  /** A CloudFront distribution in front of the bucket (origin access control; the bucket stays private). */
  readonly cloudFront: boolean;
  readonly retain: boolean;
}

/**
 * The ledger published as a C2SP tiled transparency log (docs/ledger-format.md section 12): a
 * versioned, private (Block Public Access on, TLS only) S3 bucket, written on a schedule by the
 * publish-log function (functions/publish-log.ts) with tiles and the signed checkpoint, so that
 * auditors read the log with stock tlog clients and no access to the table. Optionally Object Lock in
 * compliance mode (nothing written can be overwritten or deleted before its retention ends, by anyone)
 * and a CloudFront distribution; with witnesses, an Ed25519 KMS key for the note signature witnesses
 * verify, and an alarm when no cosignature was obtained for a while.
 */
export class LogPublisher extends Construct {
  readonly bucket: Bucket;
  readonly function: NodejsFunction;
  readonly distribution?: Distribution;
  readonly witnessKey?: KmsKey;
  readonly noCosignatureAlarm?: Alarm;

  constructor(scope: Construct, id: string, props: LogPublisherProps) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      ...(props.objectLockDays > 0
        ? {
            objectLockEnabled: true,
            objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(props.objectLockDays)),
          }
        : {}),
      removalPolicy: props.retain || props.objectLockDays > 0 ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });
    skipCheckov(this.bucket, {
      id: 'CKV_AWS_18',
      reason:
        'No server access logging: only the publish-log function writes the bucket and every object is versioned (and may be object-locked), so the bucket itself is the record of every write; reads are of public data. CloudTrail S3 data events are the audit trail where one is wanted.',
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the publish-log function writes the bucket and every object is versioned (and may be object-locked); reads are public data. CloudTrail S3 data events are the audit trail where one is wanted.',
    });
    const environment: Record<string, string> = {
      ...props.environment,
      DIGEST_KEY_ID: props.digestKey.keyArn,
      LOG_BUCKET: this.bucket.bucketName,
      ...(props.origin ? { CHECKPOINT_ORIGIN: props.origin } : {}),
    };
    if (props.witnesses.length > 0) {
      this.witnessKey = new KmsKey(this, 'WitnessKey', {
        description:
          'Ed25519 note signature of ledger checkpoints, verified by witnesses (docs/ledger-format.md section 12)',
        keySpec: KeySpec.ECC_NIST_EDWARDS25519,
        keyUsage: KeyUsage.SIGN_VERIFY,
        enableKeyRotation: false,
        removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
        policy: keyAdministrationPolicy(),
      });
      environment.WITNESS_KEY_ID = this.witnessKey.keyArn;
      environment.WITNESSES = JSON.stringify(props.witnesses);
    }
    this.function = new ServiceFunction(this, 'Publish', {
      entry: 'publish-log.ts',
      description: 'Publishes the ledger as a tiled transparency log: tiles and the signed checkpoint to S3',
      serviceName: 'publish-log',
      environment,
      timeout: Duration.minutes(5),
      memorySize: 512,
      retainLogs: props.retain,
    }).function;
    grantLedgerRead(this.function, props.table);
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'LogWrite',
        actions: ['s3:PutObject', 's3:GetObject'],
        resources: [this.bucket.arnForObjects('*')],
      }),
    );
    // Without ListBucket S3 answers a GetObject of a missing key with 403 AccessDenied, not 404
    // NoSuchKey: the first publication (no checkpoint yet) would fail instead of starting the log.
    this.function.addToRolePolicy(
      new PolicyStatement({ sid: 'LogList', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    Validations.of(this.function.role ?? this.function).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
      reason:
        'The log bucket holds only the log: the checkpoint and tile/... objects, whose names grow with the ledger.',
    });
    const signers = [props.digestKey, ...(this.witnessKey ? [this.witnessKey] : [])];
    for (const key of signers) {
      key.addToResourcePolicy(
        new PolicyStatement({
          sid: 'PublishLogSigns',
          effect: Effect.ALLOW,
          principals: [this.function.role!],
          actions: ['kms:Sign', 'kms:GetPublicKey'],
          resources: ['*'],
        }),
      );
    }
    this.function.addToRolePolicy(
      new PolicyStatement({
        sid: 'CheckpointSign',
        actions: ['kms:Sign', 'kms:GetPublicKey'],
        resources: signers.map((k) => k.keyArn),
      }),
    );
    this.function.configureAsyncInvoke({ retryAttempts: 0 });
    new Rule(this, 'Schedule', {
      description: 'Publishes new ledger tiles and a signed checkpoint',
      schedule: Schedule.rate(props.interval),
      targets: [new LambdaFunction(this.function, { retryAttempts: 2 })],
    });
    if (this.witnessKey) {
      this.noCosignatureAlarm = new Alarm(this, 'NoCosignatureAlarm', {
        alarmDescription:
          'No witness cosigned a checkpoint for the configured time: witnesses down, refusing (a fork or rollback?), or the publisher stopped. GET /ledger/tlog locally, the publish-log logs on AWS.',
        metric: new Metric({
          namespace: METRICS_NAMESPACE,
          metricName: TLOG_METRICS.cosignatures,
          dimensionsMap: { service: 'publish-log' },
          statistic: 'Sum',
          period: props.witnessAlarmPeriod,
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // Nothing new to publish is no data, and not a witness failure.
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    if (props.cloudFront) {
      this.distribution = new Distribution(this, 'Distribution', {
        comment: 'The ledger as a tiled transparency log (read-only)',
        defaultBehavior: {
          origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
          viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        },
      });
      skipCheckov(
        this.distribution,
        {
          id: 'CKV_AWS_68',
          reason:
            'No WAF: the distribution serves immutable public files (tiles, a signed checkpoint) from S3 with no compute behind it; there is nothing for a web ACL to protect beyond the limits CloudFront applies itself. Attach one to the distribution if an account policy requires it.',
        },
        {
          id: 'CKV_AWS_86',
          reason:
            'No access logging: the files are public, signed and verifiable by anyone; who read them is not part of the audit, and standard logging needs an ACL-enabled bucket this stack would otherwise not have.',
        },
        {
          id: 'CKV_AWS_174',
          reason:
            'The default *.cloudfront.net certificate: CloudFront fixes its minimum protocol (TLSv1) and only a custom domain and certificate can raise it to TLSv1.2_2021; content integrity does not rest on TLS (every checkpoint is signed and every tile hashes to it).',
        },
      );
      new CfnOutput(this, 'LogUrl', { value: `https://${this.distribution.distributionDomainName}/` });
    }
  }
}
