import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { AuditCheckpoint } from '../../engine/incremental-audit';
import type { AuditCheckpointStore } from '../../ports/audit-checkpoint-store';
import { DIGEST_PREFIX, PARTITION_KEY } from './keys';

/**
 * `DIGEST#CHECKPOINT`: the verify function's audit checkpoint (docs/ledger-format.md section 10.2),
 * `{ pk, tree_size, checkpoint }` with the checkpoint as JSON text. It lives under the DIGEST# prefix the
 * verify function alone may write. A save only moves it forward (condition on tree_size), so a late or
 * retried run never takes it back.
 */
export const AUDIT_CHECKPOINT_KEY = `${DIGEST_PREFIX}CHECKPOINT`;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const checkpointSchema = z
  .object({
    height: z.number().int().min(-1),
    head_hash: z.union([hex64, z.literal('')]),
    tree_size: z.number().int().min(0),
    frontier: z.array(hex64),
    transaction_count: z.number().int().min(0),
    timestamp: z.string(),
  })
  .strict()
  .refine((c) => c.tree_size === c.height + 1, { message: 'tree_size must be height + 1' });

export function auditCheckpointItem(client: DynamoDBClient, tableName: string): AuditCheckpointStore {
  const documents = DynamoDBDocumentClient.from(client);
  return {
    async load(): Promise<AuditCheckpoint | null> {
      const { Item } = await documents.send(
        new GetCommand({
          TableName: tableName,
          Key: { [PARTITION_KEY]: AUDIT_CHECKPOINT_KEY },
          ConsistentRead: true,
        }),
      );
      if (Item === undefined) return null;
      let parsed: unknown;
      try {
        parsed = JSON.parse(String(Item.checkpoint));
      } catch {
        parsed = undefined;
      }
      const result = checkpointSchema.safeParse(parsed);
      if (!result.success) {
        const issues = result.error.issues.map((i) => `${i.path.join('.') || '(checkpoint)'}: ${i.message}`);
        throw new Error(`malformed audit checkpoint item ${AUDIT_CHECKPOINT_KEY}: ${issues.join('; ')}`);
      }
      return result.data;
    },
    async save(checkpoint: AuditCheckpoint): Promise<void> {
      try {
        await documents.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              [PARTITION_KEY]: AUDIT_CHECKPOINT_KEY,
              tree_size: checkpoint.tree_size,
              checkpoint: JSON.stringify(checkpoint),
            },
            ConditionExpression: 'attribute_not_exists(#pk) OR tree_size < :size',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY },
            ExpressionAttributeValues: { ':size': checkpoint.tree_size },
          }),
        );
      } catch (error) {
        // Another run already saved a checkpoint at least as far: keep it.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
