import {
  BatchGetItemCommand,
  type ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  PutResourcePolicyCommand,
  QueryCommand,
  TransactGetItemsCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LEASE_INDEX_NAME,
  LEASE_INDEX_PARTITION_KEY,
  LEASE_INDEX_SORT_KEY,
} from '../../lib/adapters/dynamodb/keys';
import { dynamoDbClient } from './helpers/clients';
import { createLedgerTable } from './helpers/ledger-table';
import { type Moto, startMoto } from './helpers/moto';

/**
 * Where the two DynamoDB emulators differ, each behaviour probed on both with the same request and
 * the answer pinned per emulator, beside what AWS documents (docs/emulator.md has the table). A
 * change in either emulator fails here, so the page cannot go stale. The store's own suites run on
 * both (dynamodb-store.test.ts, dynamodb-store-moto.test.ts) and pass on both.
 */

type Outcome = string;

/** The answer in a few words: 'ok', or the error's name (and the cancellation codes). */
async function outcome(call: () => Promise<unknown>): Promise<Outcome> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    if (error instanceof TransactionCanceledException) {
      return `${error.name} [${(error.CancellationReasons ?? []).map((r) => r.Code).join(',')}]`;
    }
    return (error as Error).name;
  }
}

const s = (value: string) => ({ S: value });

async function probe(client: DynamoDBClient): Promise<Record<string, Outcome>> {
  const table = await createLedgerTable(client, { withLeaseIndex: true });
  const TableName = table.tableName;
  const put = (pk: string, extra: Record<string, { S: string } | { N: string }> = {}) =>
    client.send(new PutItemCommand({ TableName, Item: { pk: s(pk), ...extra } }));
  await put('EXISTS', { n: { N: '1' } });
  const results: Record<string, Outcome> = {};

  results.sameItemTwiceInOneTransaction = await outcome(() =>
    client.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName, Item: { pk: s('A') } } },
          {
            Update: {
              TableName,
              Key: { pk: s('A') },
              UpdateExpression: 'SET n = :n',
              ExpressionAttributeValues: { ':n': { N: '1' } },
            },
          },
        ],
      }),
    ),
  );
  results.transactionOf101Items = await outcome(() =>
    client.send(
      new TransactWriteItemsCommand({
        TransactItems: Array.from({ length: 101 }, (_, i) => ({
          Put: { TableName, Item: { pk: s(`T${i}`) } },
        })),
      }),
    ),
  );
  // ALL_OLD: the cancellation reason carries the item that failed its condition.
  results.allOldInCancellationReason = await (async () => {
    try {
      await client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName,
                Key: { pk: s('EXISTS') },
                ConditionExpression: 'attribute_not_exists(pk)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      );
      return 'ok';
    } catch (error) {
      const item = (error as TransactionCanceledException).CancellationReasons?.[0]?.Item;
      return item ? `item ${item.pk?.S}` : 'no item';
    }
  })();
  results.allOldOnConditionalPut = await (async () => {
    try {
      await client.send(
        new PutItemCommand({
          TableName,
          Item: { pk: s('EXISTS') },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'ok';
    } catch (error) {
      const item = (error as ConditionalCheckFailedException).Item;
      return item ? `item ${item.pk?.S}` : `${(error as Error).name}, no item`;
    }
  })();
  // The lease index's sort key is a Number: a String there cannot be indexed.
  results.indexKeyOfWrongType = await outcome(() =>
    put('WRONG', { [LEASE_INDEX_PARTITION_KEY]: s('x'), [LEASE_INDEX_SORT_KEY]: s('soon') }),
  );
  results.itemOver400KB = await outcome(() => put('BIG', { blob: s('x'.repeat(410 * 1024)) }));
  results.batchGetOf101Keys = await outcome(() =>
    client.send(
      new BatchGetItemCommand({
        RequestItems: { [TableName]: { Keys: Array.from({ length: 101 }, (_, i) => ({ pk: s(`K${i}`) })) } },
      }),
    ),
  );
  results.consistentReadOnIndex = await outcome(() =>
    client.send(
      new QueryCommand({
        TableName,
        IndexName: LEASE_INDEX_NAME,
        ConsistentRead: true,
        KeyConditionExpression: '#p = :p',
        ExpressionAttributeNames: { '#p': LEASE_INDEX_PARTITION_KEY },
        ExpressionAttributeValues: { ':p': s('x') },
      }),
    ),
  );
  results.emptyStringKey = await outcome(() => put(''));
  results.transactGetOfMissingItem = await (async () => {
    const { Responses } = await client.send(
      new TransactGetItemsCommand({ TransactItems: [{ Get: { TableName, Key: { pk: s('MISSING') } } }] }),
    );
    return JSON.stringify(Responses);
  })();
  // The same ClientRequestToken with other items: AWS refuses; with the same items it is not applied twice.
  const add = (token: string, pk: string) =>
    client.send(
      new TransactWriteItemsCommand({
        ClientRequestToken: token,
        TransactItems: [
          {
            Update: {
              TableName,
              Key: { pk: s(pk) },
              UpdateExpression: 'ADD n :one',
              ExpressionAttributeValues: { ':one': { N: '1' } },
            },
          },
        ],
      }),
    );
  const token = `token-${TableName}`;
  await add(token, 'COUNTER');
  results.idempotentReplay = await (async () => {
    await add(token, 'COUNTER');
    const { Item } = await client.send(
      new GetItemCommand({ TableName, Key: { pk: s('COUNTER') }, ConsistentRead: true }),
    );
    return `n=${Item?.n?.N}`;
  })();
  results.idempotencyMismatch = await outcome(() => add(token, 'OTHER'));
  results.updateOnMissingWithCondition = await outcome(() =>
    client.send(
      new UpdateItemCommand({
        TableName,
        Key: { pk: s('NOPE') },
        UpdateExpression: 'SET n = :n',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':n': { N: '1' } },
      }),
    ),
  );
  results.resourcePolicy = await outcome(() =>
    client.send(
      new PutResourcePolicyCommand({
        ResourceArn: `arn:aws:dynamodb:us-east-1:000000000000:table/${TableName}`,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Principal: '*',
              Action: 'dynamodb:DeleteItem',
              Resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${TableName}`,
            },
          ],
        }),
      }),
    ),
  );
  results.deleteUnderDenyPolicy = await outcome(() =>
    client.send(new DeleteItemCommand({ TableName, Key: { pk: s('EXISTS') } })),
  );
  await table.drop();
  return results;
}

let moto: Moto;
let motoClient: DynamoDBClient;
const ministack = dynamoDbClient();
beforeAll(async () => {
  moto = await startMoto();
  motoClient = moto.client();
});
afterAll(async () => {
  ministack.destroy();
  motoClient?.destroy();
  await moto?.stop();
});

/** What both emulators answer alike (and as AWS documents, unless said otherwise). */
const ALIKE = {
  allOldInCancellationReason: 'item EXISTS',
  allOldOnConditionalPut: 'item EXISTS',
  batchGetOf101Keys: 'ValidationException',
  consistentReadOnIndex: 'ValidationException',
  emptyStringKey: 'ValidationException',
  itemOver400KB: 'ValidationException',
  // Accepted by both and enforced by neither (AWS enforces it): deleteUnderDenyPolicy.
  resourcePolicy: 'ok',
  deleteUnderDenyPolicy: 'ok',
  sameItemTwiceInOneTransaction: 'ValidationException',
  transactGetOfMissingItem: '[{}]',
  transactionOf101Items: 'ValidationException',
  updateOnMissingWithCondition: 'ConditionalCheckFailedException',
};

describe('MiniStack and moto answer these DynamoDB requests as pinned (docs/emulator.md)', () => {
  it('answers each probe as recorded: alike but for idempotency tokens and index key types', async () => {
    const answers = { ministack: await probe(ministack), moto: await probe(motoClient) };
    expect(answers).toEqual({
      // As AWS documents: a token replayed within 10 minutes is not applied again, and with other
      // items it is refused; a String where an index key is a Number is a ValidationException.
      ministack: {
        ...ALIKE,
        idempotentReplay: 'n=1',
        idempotencyMismatch: 'IdempotentParameterMismatchException',
        indexKeyOfWrongType: 'ValidationException',
      },
      // moto ignores ClientRequestToken (applies the replay again, accepts other items under it) and
      // writes an item whose index key has the wrong type (leaving it out of the index).
      moto: {
        ...ALIKE,
        idempotentReplay: 'n=2',
        idempotencyMismatch: 'ok',
        indexKeyOfWrongType: 'ok',
      },
    });
  });
});
