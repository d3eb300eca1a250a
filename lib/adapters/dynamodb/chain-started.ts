import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { HEAD_KEY, PARTITION_KEY } from './keys';

/**
 * Whether the table holds a chain head yet, read without the store (which would write genesis on
 * first use): the read-only verify function reports an unstarted ledger instead. Once a head was
 * seen the answer stays true without another read.
 */
export function chainStarted(client: DynamoDBClient, tableName: string): () => Promise<boolean> {
  const documents = DynamoDBDocumentClient.from(client);
  let started = false;
  return async () => {
    if (started) return true;
    const { Item } = await documents.send(
      new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: HEAD_KEY }, ConsistentRead: true }),
    );
    started = Item !== undefined;
    return started;
  };
}
