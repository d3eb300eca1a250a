import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { CommandClaim, DispatchRecords, TaskSpec } from '../../ports/dispatcher';
import { PARTITION_KEY } from './keys';

/**
 * The dispatcher's items in the ledger table, apart from the ledger's own (no ledger item is ever
 * touched here). Each kind has its own prefix so that IAM can give each writer only its kind:
 * the scheduler writes specs, the dispatch function claims and command ids.
 */
export const DISPATCH_PREFIX = 'DISPATCH#';
/** `DISPATCH#SPEC#<task_id>`: `{ task_id, command?, labels }`, written before the task is decided. */
export const DISPATCH_SPEC_PREFIX = `${DISPATCH_PREFIX}SPEC#`;
/** `DISPATCH#RUN#<task_id>`: `{ task_id, transaction_id, state: sending|sent, claimed_at, command_id? }`. */
export const DISPATCH_RUN_PREFIX = `${DISPATCH_PREFIX}RUN#`;
/** `DISPATCH#CMD#<command_id>`: `{ command_id, task_id }`, the way back from an SSM status event. */
export const DISPATCH_COMMAND_PREFIX = `${DISPATCH_PREFIX}CMD#`;

export const specKey = (taskId: string) => `${DISPATCH_SPEC_PREFIX}${taskId}`;
export const runKey = (taskId: string) => `${DISPATCH_RUN_PREFIX}${taskId}`;
export const commandKey = (commandId: string) => `${DISPATCH_COMMAND_PREFIX}${commandId}`;

/**
 * The table's TTL attribute (epoch seconds, cdk/lib/constructs/ledger-table.ts). Only dispatch
 * records carry it, once their task is final: no ledger item ever expires.
 */
export const DISPATCH_EXPIRES_ATTRIBUTE = 'expires_at';
/** Tasks whose records are expired at once (three UpdateItem calls each at most). */
const EXPIRE_CONCURRENCY = 16;

const BATCH_GET_KEYS = 100;
const BATCH_GET_ATTEMPTS = 8;

const specItem = z.object({
  task_id: z.string(),
  command: z.string().optional(),
  labels: z.record(z.string(), z.string()).default({}),
});
const runItem = z.discriminatedUnion('state', [
  z.object({ state: z.literal('sending'), transaction_id: z.string() }),
  z.object({ state: z.literal('sent'), transaction_id: z.string(), command_id: z.string() }),
]);
const commandItem = z.object({ task_id: z.string() });

function parse<S extends z.ZodType>(schema: S, item: Record<string, unknown>): z.output<S> {
  const result = schema.safeParse(item);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
    throw new Error(`malformed dispatch item ${String(item[PARTITION_KEY])}: ${issues}`);
  }
  return result.data;
}

export interface DynamoDbDispatchRecordsOptions {
  client: DynamoDBClient;
  tableName: string;
}

export class DynamoDbDispatchRecords implements DispatchRecords {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoDbDispatchRecordsOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
  }

  /** One conditional put per spec, in parallel: BatchWriteItem has no conditions, and the first spec must win. */
  async putSpecs(specs: readonly TaskSpec[]): Promise<void> {
    await Promise.all(
      specs.map((spec) =>
        this.ignoreConditionFailure(
          this.documents.send(
            new PutCommand({
              TableName: this.tableName,
              Item: { [PARTITION_KEY]: specKey(spec.task_id), ...spec },
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PARTITION_KEY },
            }),
          ),
        ),
      ),
    );
  }

  async getSpecs(taskIds: readonly string[]): Promise<Map<string, TaskSpec>> {
    const specs = new Map<string, TaskSpec>();
    const keys = [...new Set(taskIds)].map(specKey);
    for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
      for (const item of await this.batchGet(keys.slice(i, i + BATCH_GET_KEYS))) {
        const { task_id, command, labels } = parse(specItem, item);
        specs.set(task_id, { task_id, ...(command === undefined ? {} : { command }), labels });
      }
    }
    return specs;
  }

  async claimCommand(taskId: string, transactionId: string, now: number): Promise<CommandClaim> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [PARTITION_KEY]: runKey(taskId),
            task_id: taskId,
            transaction_id: transactionId,
            state: 'sending',
            claimed_at: now,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        }),
      );
      return { state: 'claimed' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    const existing = await this.get(runKey(taskId));
    // Deleted between our put and this read: a failed send released it; the next delivery claims it.
    if (!existing) return { state: 'sending', transactionId };
    const run = parse(runItem, existing);
    return run.state === 'sent'
      ? { state: 'sent', transactionId: run.transaction_id, commandId: run.command_id }
      : { state: 'sending', transactionId: run.transaction_id };
  }

  async releaseCommand(taskId: string, transactionId: string): Promise<void> {
    await this.ignoreConditionFailure(
      this.documents.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [PARTITION_KEY]: runKey(taskId) },
          ConditionExpression: '#state = :sending AND transaction_id = :tx',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':sending': 'sending', ':tx': transactionId },
        }),
      ),
    );
  }

  /** The command id and the reverse mapping in one transaction: neither exists without the other. */
  async recordCommand(taskId: string, commandId: string): Promise<void> {
    await this.documents.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.tableName,
              Key: { [PARTITION_KEY]: runKey(taskId) },
              UpdateExpression: 'SET #state = :sent, command_id = :id',
              ConditionExpression: '#state = :sending',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':sent': 'sent', ':sending': 'sending', ':id': commandId },
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: { [PARTITION_KEY]: commandKey(commandId), command_id: commandId, task_id: taskId },
            },
          },
        ],
      }),
    );
  }

  async taskOfCommand(commandId: string): Promise<string | null> {
    const item = await this.get(commandKey(commandId));
    return item ? parse(commandItem, item).task_id : null;
  }

  /**
   * One conditional UpdateItem per record (`attribute_exists`, so nothing is created): the spec, the
   * run claim (whose new image names the command id), then the command's reverse mapping. The
   * table's TTL attribute is DISPATCH_EXPIRES_ATTRIBUTE, which no ledger item carries.
   */
  async expireRecords(taskIds: readonly string[], expiresAt: number): Promise<void> {
    const expire = async (key: string): Promise<Record<string, unknown> | undefined> => {
      try {
        const { Attributes } = await this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { [PARTITION_KEY]: key },
            UpdateExpression: 'SET #expires = :at',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#expires': DISPATCH_EXPIRES_ATTRIBUTE },
            ExpressionAttributeValues: { ':at': expiresAt },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return Attributes;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        throw error;
      }
    };
    for (let i = 0; i < taskIds.length; i += EXPIRE_CONCURRENCY) {
      await Promise.all(
        taskIds.slice(i, i + EXPIRE_CONCURRENCY).map(async (taskId) => {
          const [, run] = await Promise.all([expire(specKey(taskId)), expire(runKey(taskId))]);
          const commandId = run?.command_id;
          if (typeof commandId === 'string') await expire(commandKey(commandId));
        }),
      );
    }
  }

  private async get(key: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }),
    );
    return Item;
  }

  /** Consistent reads: a spec is written just before its block, whose stream record may come at once. */
  private async batchGet(keys: string[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let pending = keys.map((k) => ({ [PARTITION_KEY]: k }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > BATCH_GET_ATTEMPTS) {
        throw new Error(
          `BatchGetItem left ${pending.length} dispatch keys unprocessed after ${BATCH_GET_ATTEMPTS} attempts`,
        );
      }
      const { Responses, UnprocessedKeys } = await this.documents.send(
        new BatchGetCommand({
          RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
        }),
      );
      items.push(...(Responses?.[this.tableName] ?? []));
      pending = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as typeof pending;
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
    }
    return items;
  }

  /** A write whose condition failed changed nothing, which is what the caller wanted. */
  private async ignoreConditionFailure(write: Promise<unknown>): Promise<void> {
    try {
      await write;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
