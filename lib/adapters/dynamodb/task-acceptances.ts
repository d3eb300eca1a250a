import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Acceptance, AcceptanceClaim, TaskAcceptances } from '../../ports/task-acceptances';
import { acceptedKey, PARTITION_KEY } from './keys';

/** Writes in flight at once: a 1000-task request is 1000 PutItem calls. */
const CONCURRENCY = 32;
/** A claim that fails its condition and then is not there was released meanwhile: claim again. */
const CLAIM_ATTEMPTS = 3;

const acceptedItem = z.object({
  task_id: z.string().min(1),
  body_sha256: z.string().regex(/^[0-9a-f]{64}$/),
  accepted_at: z.number().int().nonnegative(),
  queued: z.boolean(),
  released: z.boolean().optional(),
});

export interface DynamoDbTaskAcceptancesOptions {
  client: DynamoDBClient;
  tableName: string;
}

/**
 * Acceptance records as `ACCEPTED#<task_id>` items of the ledger table (lib/adapters/dynamodb/keys.ts).
 * Every write is a PutItem, CONCURRENCY at a time (BatchWriteItem has no conditions and can delete).
 * Nothing is ever deleted from the table (tests/unit/cdk/stack.test.ts holds every role to that): a
 * released claim is overwritten with `released: true`, which reads as absent and may be claimed again.
 */
export class DynamoDbTaskAcceptances implements TaskAcceptances {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbTaskAcceptancesOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client);
    this.tableName = options.tableName;
  }

  async claim(claims: readonly AcceptanceClaim[]): Promise<Map<string, Acceptance>> {
    const existing = new Map<string, Acceptance>();
    await inParallel(claims, async (claim) => {
      for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
        try {
          await this.documents.send(
            new PutCommand({
              TableName: this.tableName,
              Item: itemOf(claim, { queued: false }),
              ConditionExpression: 'attribute_not_exists(#pk) OR released = :yes',
              ExpressionAttributeNames: { '#pk': PARTITION_KEY },
              ExpressionAttributeValues: { ':yes': true },
            }),
          );
          return;
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
        const found = await this.get(claim.task_id);
        if (found) {
          existing.set(claim.task_id, found);
          return;
        }
      }
      throw new Error(`acceptance of task ${claim.task_id} kept changing under ${CLAIM_ATTEMPTS} claims`);
    });
    return existing;
  }

  async markQueued(claims: readonly AcceptanceClaim[]): Promise<void> {
    await inParallel(claims, async (claim) => {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: itemOf(claim, { queued: true }),
        }),
      );
    });
  }

  async release(claims: readonly AcceptanceClaim[]): Promise<void> {
    await inParallel(claims, async (claim) => {
      try {
        await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: itemOf(claim, { queued: false, released: true }),
            ConditionExpression: 'body_sha256 = :hash AND queued = :no',
            ExpressionAttributeValues: { ':hash': claim.body_sha256, ':no': false },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    });
  }

  async get(taskId: string): Promise<Acceptance | null> {
    const { Item } = await this.documents.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PARTITION_KEY]: acceptedKey(taskId) },
        ConsistentRead: true,
      }),
    );
    if (!Item) return null;
    const parsed = acceptedItem.safeParse(Item);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`)
        .join('; ');
      throw new Error(`malformed acceptance item ${acceptedKey(taskId)}: ${issues}`);
    }
    const { released, ...record } = parsed.data;
    return released ? null : record;
  }
}

/** The item of a claim (only its fields, whatever else the caller's object holds) in the given state. */
function itemOf(
  claim: AcceptanceClaim,
  state: { queued: boolean; released?: true },
): Record<string, unknown> {
  return {
    [PARTITION_KEY]: acceptedKey(claim.task_id),
    task_id: claim.task_id,
    body_sha256: claim.body_sha256,
    accepted_at: claim.accepted_at,
    ...state,
  };
}

/** Runs `work` on every item, at most CONCURRENCY at once; the first failure is thrown after all settle. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
