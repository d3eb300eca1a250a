import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  LEASE_INDEX_NAME,
  LEASE_INDEX_PARTITION_KEY,
  LEASE_INDEX_SORT_KEY,
  PARTITION_KEY,
} from '../../../lib/adapters/dynamodb/keys';
import { skipCheckov } from '../checkov';

export interface LedgerTableProps {
  /** Keep the table (RETAIN, deletion protection); false only for throw-away test stages. */
  readonly retain: boolean;
  /** A stream of new item images (the dispatcher reads committed blocks from it). @default false */
  readonly stream?: boolean;
}

/**
 * The ledger: one table, partition key `pk`, no sort key (layout in lib/adapters/dynamodb/keys.ts),
 * plus the sparse index of open leases that lease expiry queries.
 */
export class LedgerTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: LedgerTableProps) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      ...(props.stream ? { stream: StreamViewType.NEW_IMAGE } : {}),
    });
    skipCheckov(this.table, {
      id: 'CKV_AWS_119',
      reason:
        'Encrypted at rest with the AWS-managed key (SSESpecification). Tamper evidence comes from the hash chain and the KMS-signed digests, not from who may decrypt; a customer key would be one more policy to keep in step with every reader.',
    });
    this.table.addGlobalSecondaryIndex({
      indexName: LEASE_INDEX_NAME,
      partitionKey: { name: LEASE_INDEX_PARTITION_KEY, type: AttributeType.STRING },
      sortKey: { name: LEASE_INDEX_SORT_KEY, type: AttributeType.NUMBER },
      projectionType: ProjectionType.ALL,
    });
  }
}
