import {
  CreateTableCommand,
  DeleteTableCommand,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  LEASE_INDEX_NAME,
  LEASE_INDEX_PARTITION_KEY,
  LEASE_INDEX_SORT_KEY,
  PARTITION_KEY,
} from '../../../lib/adapters/dynamodb/keys';
import { uniqueName } from './names';

/**
 * Creates a ledger table as the CDK stack does (keys.ts): partition key `pk`, no sort key, on-demand,
 * and with `withLeaseIndex` the sparse lease index. Returns its name and a function that deletes it.
 */
export async function createLedgerTable(
  client: DynamoDBClient,
  options: { withLeaseIndex?: boolean } = {},
): Promise<{ tableName: string; drop(): Promise<void> }> {
  const tableName = uniqueName('ledger');
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [
        { AttributeName: PARTITION_KEY, AttributeType: 'S' },
        ...(options.withLeaseIndex
          ? [
              { AttributeName: LEASE_INDEX_PARTITION_KEY, AttributeType: 'S' as const },
              { AttributeName: LEASE_INDEX_SORT_KEY, AttributeType: 'N' as const },
            ]
          : []),
      ],
      ...(options.withLeaseIndex
        ? {
            GlobalSecondaryIndexes: [
              {
                IndexName: LEASE_INDEX_NAME,
                KeySchema: [
                  { AttributeName: LEASE_INDEX_PARTITION_KEY, KeyType: 'HASH' },
                  { AttributeName: LEASE_INDEX_SORT_KEY, KeyType: 'RANGE' },
                ],
                Projection: { ProjectionType: 'ALL' },
              },
            ],
          }
        : {}),
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  return {
    tableName,
    drop: async () => {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
}
