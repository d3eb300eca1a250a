import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { VERIFY_METRICS } from '../../../functions/shared/metric-names';
import { grantLedgerRead } from '../ledger-access';
import { METRICS_NAMESPACE, ServiceFunction } from '../nodejs-function';

export interface VerifierProps {
  readonly table: ITable;
  readonly environment: Record<string, string>;
  readonly interval: Duration;
  readonly retainLogs: boolean;
}

/**
 * Full-chain verification on a schedule (and, through the API, on request), with the alarm that
 * fires when the chain does not verify.
 */
export class Verifier extends Construct {
  readonly function: NodejsFunction;
  readonly invalidChainAlarm: Alarm;

  constructor(scope: Construct, id: string, props: VerifierProps) {
    super(scope, id);
    this.function = new ServiceFunction(this, 'Verify', {
      entry: 'verify.ts',
      description: 'Verifies the whole ledger: hash links, Merkle roots, block hashes',
      serviceName: 'verify',
      environment: props.environment,
      timeout: Duration.minutes(5),
      memorySize: 1024,
      retainLogs: props.retainLogs,
    }).function;
    grantLedgerRead(this.function, props.table);

    new Rule(this, 'Schedule', {
      description: 'Periodic full verification of the ledger',
      schedule: Schedule.rate(props.interval),
      targets: [new LambdaFunction(this.function, { retryAttempts: 2 })],
    });

    this.invalidChainAlarm = new Alarm(this, 'InvalidChainAlarm', {
      alarmDescription:
        'The ledger failed verification, or verification stopped reporting. Run POST /ledger/verify for the first bad block.',
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: VERIFY_METRICS.chainValid,
        dimensionsMap: { service: 'verify' },
        statistic: 'Minimum',
        period: props.interval,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // A verifier that stops running is as bad as a failed verification: missing data alarms.
      treatMissingData: TreatMissingData.BREACHING,
    });
  }
}
