import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DISPATCH_EXPIRES_ATTRIBUTE } from '../../../lib/adapters/dynamodb/dispatch-records';
import {
  DIGEST_PREFIX,
  HEAD_KEY,
  LEASE_INDEX_NAME,
  LEASE_INDEX_PARTITION_KEY,
  LEASE_INDEX_SORT_KEY,
  PARTITION_KEY,
  WRITER_KEYS,
} from '../../../lib/adapters/dynamodb/keys';
import { skipCheckov } from '../checkov';

/** The chain's items (`HEAD`, `BLOCK#`, `TX#`, `TASK#`, `VM#`) as dynamodb:LeadingKeys patterns. */
export const CHAIN_LEADING_KEYS = WRITER_KEYS.map((k) => (k === HEAD_KEY ? k : `${k}*`));
/** Every item write DynamoDB authorises, by any API (TransactWriteItems is authorised per item). */
export const ITEM_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
];
const ITEM_DELETE_ACTIONS = ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLDelete'];

export interface ChainWriters {
  /**
   * Roles that append to the chain: the scheduler's, and the lease closer's (expiry, and the
   * completions the API and command-status functions queue for it).
   */
  readonly chain: readonly IRole[];
  /** Roles that publish signed digests (DIGEST# items): the verify function's. */
  readonly digests: readonly IRole[];
}

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
      // Only dispatch records of finished tasks carry it (lib/adapters/dynamodb/dispatch-records.ts);
      // no ledger item has the attribute, so none ever expires.
      timeToLiveAttribute: DISPATCH_EXPIRES_ATTRIBUTE,
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

  /**
   * The table's resource-based policy: IAM policies grant, this denies whatever any identity policy
   * in the account says. Chain items can be deleted by nobody; they can be written only by the chain
   * writer roles, DIGEST# items only by the digest writers. An administrator with an identity policy
   * allowing dynamodb:* still cannot rewrite a committed block (they can change this policy, which
   * CloudTrail records). The statements use Resource "*": a table's policy cannot name its own ARN
   * in CloudFormation, and "*" in a table's policy means the table and its indexes.
   */
  restrictWrites(writers: ChainWriters): void {
    const deny = (sid: string, actions: string[], conditions: Record<string, unknown>) =>
      this.table.addToResourcePolicy(
        new PolicyStatement({
          sid,
          effect: Effect.DENY,
          principals: [new AnyPrincipal()],
          actions,
          resources: ['*'],
          conditions,
        }),
      );
    const protectedKeys = [...CHAIN_LEADING_KEYS, `${DIGEST_PREFIX}*`];
    deny('NoChainDeletes', ITEM_DELETE_ACTIONS, {
      'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': protectedKeys },
    });
    deny('ChainWritersOnly', ITEM_WRITE_ACTIONS, {
      'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': CHAIN_LEADING_KEYS },
      ArnNotEquals: { 'aws:PrincipalArn': writers.chain.map((r) => r.roleArn) },
    });
    deny('DigestWritersOnly', ITEM_WRITE_ACTIONS, {
      'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [`${DIGEST_PREFIX}*`] },
      ArnNotEquals: { 'aws:PrincipalArn': writers.digests.map((r) => r.roleArn) },
    });
  }
}
