import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VerifyRunReport, verifyHandler } from '../../functions/handlers/verify';
import { AUDIT_CHECKPOINT_KEY, auditCheckpointItem, DynamoDbLedgerStore } from '../../lib/adapters/dynamodb';
import { PARTITION_KEY } from '../../lib/adapters/dynamodb/keys';
import { LedgerReader } from '../../lib/engine/ledger-reader';
import { grow } from '../unit/engine/audit-chain';
import { scheduledEvent } from '../unit/functions/helpers/events';
import { RecordingLogger, RecordingMetrics } from '../unit/functions/helpers/fixtures';
import { dynamoDbClient } from './helpers/clients';
import { createLedgerTable } from './helpers/ledger-table';

/** The verify function's audit checkpoint as a DIGEST#CHECKPOINT item (docs/ledger-format.md 10.2). */
const client = dynamoDbClient();
const documents = DynamoDBDocumentClient.from(client);
let tableName: string;
let drop: () => Promise<void>;
let store: DynamoDbLedgerStore;

beforeAll(async () => {
  ({ tableName, drop } = await createLedgerTable(client));
  store = new DynamoDbLedgerStore({ client, tableName });
  // 60 transactions, two a block, in commits that fit one DynamoDB transaction.
  for (let i = 0; i < 60; i += 20) await grow(store, i, 20);
}, 120_000);

afterAll(async () => {
  await drop?.();
  client.destroy();
});

describe('audit checkpoint on DynamoDB', { timeout: 120_000 }, () => {
  it('a budgeted scheduled run saves its progress in DIGEST#CHECKPOINT; the next resumes and reaches the head', async () => {
    const budgets = [0];
    const handler = verifyHandler({
      store: () => store,
      started: async () => true,
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      checkpoints: auditCheckpointItem(client, tableName),
      budgetMs: () => budgets.shift() ?? 60_000,
    });
    const first = (await handler(scheduledEvent())) as VerifyRunReport;
    expect(first).toMatchObject({ valid: true, incomplete: true, behind: 31 });
    const second = (await handler(scheduledEvent())) as VerifyRunReport;
    expect(second).toMatchObject({
      valid: true,
      incomplete: false,
      behind: 0,
      height: 30,
      blocks_checked: 31,
    });
    const saved = await auditCheckpointItem(client, tableName).load();
    const digest = await new LedgerReader(store).digest();
    expect(saved).toMatchObject({
      height: 30,
      head_hash: digest.head_hash,
      tree_size: 31,
      transaction_count: 60,
    });

    // Only forward: an older checkpoint saved late does not replace it.
    await auditCheckpointItem(client, tableName).save({ ...saved!, height: 3, tree_size: 4 });
    expect(await auditCheckpointItem(client, tableName).load()).toEqual(saved);
    const { Item } = await documents.send(
      new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: AUDIT_CHECKPOINT_KEY } }),
    );
    expect(Item).toMatchObject({ tree_size: 31 });
  });

  it('a malformed checkpoint item is an error naming the item and the field', async () => {
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: { [PARTITION_KEY]: AUDIT_CHECKPOINT_KEY, tree_size: 99, checkpoint: '{"height":"x"}' },
      }),
    );
    await expect(auditCheckpointItem(client, tableName).load()).rejects.toThrow(
      /malformed audit checkpoint item DIGEST#CHECKPOINT: height/,
    );
  });
});
