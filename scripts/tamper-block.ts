// The attacker of the docs/aws.md walkthrough: someone with write access to the ledger table rewrites
// one decision. The first transaction of block <height> now asks for 1 millicore of CPU; every hash in
// the item is left as it was, so only a verifier that recomputes them notices.
//   node --import tsx scripts/tamper-block.ts <table> <height>
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { blockKey, PARTITION_KEY } from '../lib/adapters/dynamodb/keys';

const [table, heightText] = process.argv.slice(2);
if (!table || !/^\d+$/.test(heightText ?? '')) {
  console.error('usage: node --import tsx scripts/tamper-block.ts <table> <height>');
  process.exit(2);
}
const height = Number(heightText);
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const key = { [PARTITION_KEY]: blockKey(height) };
const { Item } = await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
if (!Item) {
  console.error(`no block ${height} in ${table}`);
  process.exit(1);
}
const transactions = JSON.parse(Item.transactions as string) as {
  task_requirements: Record<string, number>;
}[];
transactions[0]!.task_requirements = { ...transactions[0]!.task_requirements, cpu: 1 };
await client.send(
  new UpdateCommand({
    TableName: table,
    Key: key,
    UpdateExpression: 'SET #txs = :txs',
    ExpressionAttributeNames: { '#txs': 'transactions' },
    ExpressionAttributeValues: { ':txs': JSON.stringify(transactions) },
  }),
);
console.log(`rewrote the first transaction of block ${height} in ${table}`);
client.destroy();
