import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type * as z from 'zod';
import { type AuditJob, auditJobSchema } from '../../engine/audit-job';
import { type RangeResult, rangeResultSchema } from '../../engine/range-audit';
import type { AuditJobStore } from '../../ports/audit-jobs';
import { DISPATCH_EXPIRES_ATTRIBUTE } from './dispatch-records';
import { AUDIT_PREFIX, HEIGHT_DIGITS, PARTITION_KEY } from './keys';

/**
 * `AUDIT#<job_id>`: a full re-audit (docs/ledger-format.md section 10.3), `{ pk, state, job }` with the
 * job as JSON text. `AUDIT#<job_id>#RANGE#<from, 12 digits>`: one range's result, `{ pk, result }`,
 * written by the range workers, read by the merge; it expires (the table's TTL attribute) a week later.
 */
export const auditJobKey = (jobId: string) => `${AUDIT_PREFIX}${jobId}`;
export const auditRangeKey = (jobId: string, from: number) =>
  `${AUDIT_PREFIX}${jobId}#RANGE#${String(from).padStart(HEIGHT_DIGITS, '0')}`;

const RANGE_TTL_S = 7 * 24 * 3600;
const BATCH_GET_KEYS = 100;

function parseItem<S extends z.ZodType>(schema: S, text: unknown, key: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch {
    value = undefined;
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`);
    throw new Error(`malformed audit item ${key}: ${issues.join('; ')}`);
  }
  return result.data;
}

export function auditJobItems(
  client: DynamoDBClient,
  tableName: string,
  now: () => number = Date.now,
): AuditJobStore {
  const documents = DynamoDBDocumentClient.from(client);
  return {
    async create(job: AuditJob): Promise<void> {
      await documents.send(
        new PutCommand({
          TableName: tableName,
          Item: { [PARTITION_KEY]: auditJobKey(job.job_id), state: job.state, job: JSON.stringify(job) },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      );
    },
    async get(jobId: string): Promise<AuditJob | null> {
      const key = auditJobKey(jobId);
      const { Item } = await documents.send(
        new GetCommand({ TableName: tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }),
      );
      return Item === undefined ? null : parseItem(auditJobSchema, Item.job, key);
    },
    async finish(job: AuditJob): Promise<void> {
      try {
        await documents.send(
          new PutCommand({
            TableName: tableName,
            Item: { [PARTITION_KEY]: auditJobKey(job.job_id), state: job.state, job: JSON.stringify(job) },
            // A retried merge never rewrites a finished job.
            ConditionExpression: '#state = :running',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':running': 'running' },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
    async putRange(jobId: string, result: RangeResult): Promise<void> {
      await documents.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            [PARTITION_KEY]: auditRangeKey(jobId, result.from),
            result: JSON.stringify(result),
            [DISPATCH_EXPIRES_ATTRIBUTE]: Math.floor(now() / 1000) + RANGE_TTL_S,
          },
        }),
      );
    },
    async getRanges(jobId: string, froms: readonly number[]): Promise<(RangeResult | null)[]> {
      const byKey = new Map<string, RangeResult>();
      const keys = [...new Set(froms.map((f) => auditRangeKey(jobId, f)))];
      for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
        let pending: Record<string, unknown>[] = keys
          .slice(i, i + BATCH_GET_KEYS)
          .map((k) => ({ [PARTITION_KEY]: k }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 8) throw new Error(`DynamoDB left ${pending.length} audit range items unread`);
          const out = await documents.send(
            new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
          );
          for (const item of out.Responses?.[tableName] ?? []) {
            const key = String(item[PARTITION_KEY]);
            byKey.set(key, parseItem(rangeResultSchema, item.result, key));
          }
          pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Record<string, unknown>[];
          if (pending.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        }
      }
      return froms.map((f) => byKey.get(auditRangeKey(jobId, f)) ?? null);
    },
  };
}
