import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { HEAD_KEY, LEASE_INDEX_NAME, WRITER_KEYS } from '../../lib/adapters/dynamodb/keys';

/** Every read the store makes: items by key, the lease index, and the scans of VM/TASK items. */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan'];

/**
 * The item writes an append makes (TransactWriteItems is authorised per item as these actions).
 * DeleteItem is absent on purpose: nothing in the ledger is ever deleted.
 */
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];

/** `HEAD` is a whole key; the others are prefixes. */
export const WRITER_LEADING_KEYS = WRITER_KEYS.map((k) => (k === HEAD_KEY ? k : `${k}*`));

export function grantLedgerRead(grantee: IGrantable, table: ITable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'LedgerRead',
      effect: Effect.ALLOW,
      actions: READ_ACTIONS,
      resources: [table.tableArn, `${table.tableArn}/index/${LEASE_INDEX_NAME}`],
    }),
  );
}

/**
 * The fleet reads of lib/adapters/aws (instances by tag, instance types, CloudWatch usage). None of
 * these actions supports resource-level permissions, hence '*'.
 */
export function grantFleetRead(grantee: IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'FleetRead',
      effect: Effect.ALLOW,
      actions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'cloudwatch:GetMetricData'],
      resources: ['*'],
    }),
  );
}

/** Read, plus item writes limited by dynamodb:LeadingKeys to the prefixes the writer owns. */
export function grantLedgerWrite(grantee: IGrantable, table: ITable): void {
  grantLedgerRead(grantee, table);
  grantee.grantPrincipal.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'LedgerAppend',
      effect: Effect.ALLOW,
      actions: WRITE_ACTIONS,
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': WRITER_LEADING_KEYS } },
    }),
  );
}
