import { randomUUID } from 'node:crypto';
import { type DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  paginateQuery,
  paginateScan,
  TransactGetCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { applyReservationChange, netReservationChanges } from '../../engine/commit';
import { StoreUnavailableError } from '../../errors';
import { genesisBlock } from '../../ledger';
import type { Block, ChainHead } from '../../ledger/types';
import type {
  AppendResult,
  Commit,
  LedgerState,
  LedgerStore,
  Reservation,
  TaskRecord,
} from '../../ports/ledger-store';
import { exceedsCapacityAlone, MAX_TRANSACTION_ITEMS, planCommit } from './commit-plan';
import { conflictFrom } from './conflicts';
import { storeCall, storePages } from './errors';
import {
  blockFromItem,
  blockToItem,
  headFromItem,
  reservationFromItem,
  taskFromItem,
  transactionLocationFromItem,
} from './items';
import {
  blockKey,
  HEAD_KEY,
  LEASE_INDEX_PARTITION_KEY,
  LEASE_INDEX_SORT_KEY,
  LEASE_PARTITION,
  PARTITION_KEY,
  TASK_PREFIX,
  taskKey,
  transactionKey,
  VM_PREFIX,
  vmKey,
} from './keys';

export interface DynamoDbLedgerStoreOptions {
  /** A client the caller owns (endpoint, region, retries); close() leaves it open. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /**
   * Name of the sparse lease index (keys.ts LEASE_INDEX_*), when the table has it.
   * @default undefined: listExpiredLeases scans the table
   */
  readonly leaseIndexName?: string;
  /** @default genesisBlock() from lib/ledger */
  readonly genesis?: Block;
}

/** BatchGetItem takes at most 100 keys per request. */
const BATCH_GET_KEYS = 100;
const BATCH_GET_ATTEMPTS = 8;
/** TransactGetItems tries before readState falls back to head-then-items reads. */
const SNAPSHOT_ATTEMPTS = 3;

/**
 * The LedgerStore on one DynamoDB table (layout in keys.ts). An append is ONE TransactWriteItems
 * request (see commit-plan.ts), so blocks, head, reservations and task records change together or not
 * at all, and the conditional write on HEAD makes concurrent writers serialise on the chain tip.
 *
 * Limits: a commit holds at most 100 items and 4 MB (commitItemCount); beyond that append throws
 * CommitTooLargeError before writing anything. Reads that decide correctness are strongly consistent.
 */
export class DynamoDbLedgerStore implements LedgerStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly leaseIndexName: string | undefined;
  private readonly genesis: Block;
  private ready: Promise<void> | undefined;
  private closed = false;

  constructor(options: DynamoDbLedgerStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
    this.leaseIndexName = options.leaseIndexName;
    this.genesis = options.genesis ?? genesisBlock();
  }

  async readHead(): Promise<ChainHead> {
    this.assertOpen();
    await this.ensureGenesis();
    const item = await this.getItem(HEAD_KEY);
    if (!item) throw new Error(`table ${this.tableName} has no ${HEAD_KEY} item after genesis`);
    return headFromItem(item);
  }

  async append(expected: ChainHead, commit: Commit): Promise<AppendResult> {
    this.assertOpen();
    await this.ensureGenesis();
    const plan = planCommit(this.tableName, expected, commit);
    const alone = exceedsCapacityAlone(commit.reservations);
    if (alone) return { ok: false, conflict: 'over-capacity', detail: alone };
    try {
      await storeCall(this.tableName, () =>
        this.documents.send(
          new TransactWriteCommand({
            TransactItems: plan.items,
            // Makes the SDK's own retries of this request idempotent: a retry after a lost response
            // returns success instead of failing its own conditions.
            ClientRequestToken: randomUUID(),
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const conflict = conflictFrom(error, plan, expected);
      if (!conflict.ok && conflict.conflict === 'over-capacity') {
        return { ...conflict, detail: await this.explainReservationFailure(commit, conflict.detail) };
      }
      return conflict;
    }
    return { ok: true, head: plan.head };
  }

  async getBlocks(from: number, limit: number): Promise<Block[]> {
    this.assertOpen();
    if (!Number.isInteger(from) || from < 0) throw new RangeError(`from must be a height >= 0, got ${from}`);
    if (!Number.isInteger(limit) || limit < 0)
      throw new RangeError(`limit must be an integer >= 0, got ${limit}`);
    const head = await this.readHead();
    const last = Math.min(head.height, from + limit - 1);
    const keys: string[] = [];
    for (let h = from; h <= last; h++) keys.push(blockKey(h));
    const blocks: Block[] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
      const items = await this.batchGet(keys.slice(i, i + BATCH_GET_KEYS));
      for (const item of items) blocks.push(blockFromItem(item));
    }
    blocks.sort((a, b) => a.height - b.height);
    return blocks;
  }

  async getBlock(height: number): Promise<Block | null> {
    this.assertOpen();
    if (!Number.isInteger(height) || height < 0) return null;
    await this.ensureGenesis();
    const item = await this.getItem(blockKey(height));
    return item ? blockFromItem(item) : null;
  }

  async findTransaction(transactionId: string): Promise<{ height: number; index: number } | null> {
    this.assertOpen();
    const item = await this.getItem(transactionKey(transactionId));
    return item ? transactionLocationFromItem(item) : null;
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    this.assertOpen();
    const item = await this.getItem(taskKey(taskId));
    return item ? taskFromItem(item) : null;
  }

  /**
   * The engine's redelivery check for a whole batch: one consistent BatchGetItem per 100 distinct
   * ids instead of a GetItem per task (a batch of 10 tasks took 10 requests before). In the order
   * asked; a repeated id is read once (BatchGetItem refuses duplicate keys).
   */
  async getTasks(taskIds: readonly string[]): Promise<(TaskRecord | null)[]> {
    this.assertOpen();
    const distinct = [...new Set(taskIds)];
    const found = new Map<string, TaskRecord>();
    for (let i = 0; i < distinct.length; i += BATCH_GET_KEYS) {
      for (const item of await this.batchGet(distinct.slice(i, i + BATCH_GET_KEYS).map(taskKey))) {
        const record = taskFromItem(item);
        found.set(record.task_id, record);
      }
    }
    return taskIds.map((id) => found.get(id) ?? null);
  }

  async listExpiredLeases(before: number, limit: number): Promise<TaskRecord[]> {
    this.assertOpen();
    if (limit <= 0) return [];
    const found: TaskRecord[] = [];
    if (this.leaseIndexName) {
      // Index reads are eventually consistent; the expiry write is conditional on status 'assigned',
      // so a lease that was closed meanwhile only costs a task-conflict, never a wrong transaction.
      const pages = paginateQuery(
        { client: this.documents, pageSize: Math.min(limit, 1000) },
        {
          TableName: this.tableName,
          IndexName: this.leaseIndexName,
          KeyConditionExpression: '#lpk = :lease AND #expires <= :before',
          ExpressionAttributeNames: { '#lpk': LEASE_INDEX_PARTITION_KEY, '#expires': LEASE_INDEX_SORT_KEY },
          ExpressionAttributeValues: { ':lease': LEASE_PARTITION, ':before': before },
        },
      );
      for await (const page of storePages(this.tableName, pages)) {
        for (const item of page.Items ?? []) {
          found.push(taskFromItem(item));
          if (found.length >= limit) return found;
        }
      }
      return found;
    }
    const pages = paginateScan(
      { client: this.documents },
      {
        TableName: this.tableName,
        ConsistentRead: true,
        FilterExpression: 'begins_with(#pk, :task) AND #status = :assigned AND #expires <= :before',
        ExpressionAttributeNames: {
          '#pk': PARTITION_KEY,
          '#status': 'status',
          '#expires': 'lease_expires_at',
        },
        ExpressionAttributeValues: { ':task': TASK_PREFIX, ':assigned': 'assigned', ':before': before },
      },
    );
    for await (const page of storePages(this.tableName, pages)) {
      for (const item of page.Items ?? []) found.push(taskFromItem(item));
    }
    // A scan returns items in hash order; the oldest leases go first, as with the index.
    found.sort(
      (a, b) =>
        (a.lease_expires_at ?? 0) - (b.lease_expires_at ?? 0) ||
        (a.task_id < b.task_id ? -1 : a.task_id > b.task_id ? 1 : 0),
    );
    return found.slice(0, limit);
  }

  /**
   * With `vmIds`: one consistent BatchGetItem per 100 VMs, whatever the size of the ledger. Without:
   * a filtered Scan, which reads every item of the table (for listings, not for the engine).
   */
  async getReservations(vmIds?: readonly string[]): Promise<Reservation[]> {
    this.assertOpen();
    if (vmIds) return this.reservationsOf(vmIds);
    const reservations: Reservation[] = [];
    const pages = paginateScan(
      { client: this.documents },
      {
        TableName: this.tableName,
        ConsistentRead: true,
        FilterExpression: 'begins_with(#pk, :vm)',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY },
        ExpressionAttributeValues: { ':vm': VM_PREFIX },
      },
    );
    for await (const page of storePages(this.tableName, pages)) {
      for (const item of page.Items ?? []) reservations.push(reservationFromItem(item));
    }
    return sortByVm(reservations);
  }

  /**
   * One TransactGetItems for HEAD, the tasks and the VMs when they fit its 100 items: a serialisable
   * snapshot, so the reservations are exactly those of the head returned, in one request instead of
   * three. A read that collides with a commit in flight is cancelled (TransactionConflict) and tried
   * again; past that, or when the keys do not fit, the head is read first and the rest after it, so the
   * rest reflects at least that head (an append on it then fails if they are newer, never succeeds on
   * older state).
   */
  async readState(taskIds: readonly string[], vmIds: readonly string[]): Promise<LedgerState> {
    this.assertOpen();
    await this.ensureGenesis();
    const tasks = [...new Set(taskIds)];
    const vms = [...new Set(vmIds)];
    if (1 + tasks.length + vms.length <= MAX_TRANSACTION_ITEMS) {
      for (let attempt = 0; attempt < SNAPSHOT_ATTEMPTS; attempt++) {
        if (attempt > 0) await sleep(25 * 2 ** attempt);
        const snapshot = await this.snapshot(tasks, vms).catch((error: unknown) => {
          if (error instanceof TransactionCanceledException) return undefined;
          throw error;
        });
        if (!snapshot) continue;
        const found = new Map(snapshot.tasks.map((r) => [r.task_id, r]));
        return {
          head: snapshot.head,
          tasks: taskIds.map((id) => found.get(id) ?? null),
          reservations: sortByVm(snapshot.reservations),
        };
      }
    }
    const head = await this.readHead();
    const [records, reservations] = await Promise.all([this.getTasks(taskIds), this.reservationsOf(vmIds)]);
    return { head, tasks: records, reservations };
  }

  /** Ends this store object; the client stays open, since the caller owns it. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`DynamoDbLedgerStore on ${this.tableName} is closed`);
  }

  /**
   * A failed reservation condition does not say which dimension failed; the VM items as they are now
   * do. A release of more than is reserved is a broken commit, not a conflict: that throws
   * MalformedCommitError, as in the other stores. The items may have moved since the transaction, so
   * this only shapes the message (or the error), never whether anything was written: nothing was.
   */
  private async explainReservationFailure(commit: Commit, fallback: string): Promise<string> {
    const reasons: string[] = [];
    const changes = netReservationChanges(commit.reservations);
    const now = new Map((await this.reservationsOf(changes.map((c) => c.vm_id))).map((r) => [r.vm_id, r]));
    for (const change of changes) {
      const current = now.get(change.vm_id);
      const outcome = applyReservationChange(current, change);
      if (!outcome.ok) reasons.push(outcome.detail);
    }
    return reasons.length > 0 ? reasons.join('; ') : fallback;
  }

  /**
   * Writes the genesis block and a head pointing at it, once per table. Both puts are conditional, so
   * of several stores starting on an empty table exactly one writes and the others see it there.
   */
  private ensureGenesis(): Promise<void> {
    this.ready ??= this.writeGenesis().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async writeGenesis(): Promise<void> {
    if (await this.getItem(HEAD_KEY)) return;
    const absent = {
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY },
    };
    try {
      await storeCall(this.tableName, () =>
        this.documents.send(
          new TransactWriteCommand({
            TransactItems: [
              { Put: { TableName: this.tableName, Item: blockToItem(this.genesis), ...absent } },
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    [PARTITION_KEY]: HEAD_KEY,
                    height: this.genesis.height,
                    hash: this.genesis.block_hash,
                  },
                  ...absent,
                },
              },
            ],
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      // Lost the race to another store: the head must exist now.
      if (!(await this.getItem(HEAD_KEY))) throw error;
    }
  }

  private async reservationsOf(vmIds: readonly string[]): Promise<Reservation[]> {
    const distinct = [...new Set(vmIds)];
    const reservations: Reservation[] = [];
    for (let i = 0; i < distinct.length; i += BATCH_GET_KEYS) {
      for (const item of await this.batchGet(distinct.slice(i, i + BATCH_GET_KEYS).map(vmKey))) {
        reservations.push(reservationFromItem(item));
      }
    }
    return sortByVm(reservations);
  }

  /** Distinct keys only: TransactGetItems refuses two operations on one item. */
  private async snapshot(
    taskIds: readonly string[],
    vmIds: readonly string[],
  ): Promise<{ head: ChainHead; tasks: TaskRecord[]; reservations: Reservation[] }> {
    const keys = [HEAD_KEY, ...taskIds.map(taskKey), ...vmIds.map(vmKey)];
    const result = await storeCall(this.tableName, () =>
      this.documents.send(
        new TransactGetCommand({
          TransactItems: keys.map((key) => ({
            Get: { TableName: this.tableName, Key: { [PARTITION_KEY]: key } },
          })),
        }),
      ),
    );
    // Responses come in the order of the keys; an item that does not exist has no Item.
    const items = (result.Responses ?? []).map((r) => r?.Item);
    const head = items[0];
    if (!head) throw new Error(`table ${this.tableName} has no ${HEAD_KEY} item after genesis`);
    const present = (slice: (Record<string, unknown> | undefined)[]) =>
      slice.filter((item): item is Record<string, unknown> => item !== undefined);
    return {
      head: headFromItem(head),
      tasks: present(items.slice(1, 1 + taskIds.length)).map(taskFromItem),
      reservations: present(items.slice(1 + taskIds.length)).map(reservationFromItem),
    };
  }

  private async getItem(key: string): Promise<Record<string, unknown> | undefined> {
    const result = await storeCall(this.tableName, () =>
      this.documents.send(
        new GetCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: key }, ConsistentRead: true }),
      ),
    );
    return result.Item;
  }

  private async batchGet(keys: string[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let pending: Record<string, unknown>[] = keys.map((k) => ({ [PARTITION_KEY]: k }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= BATCH_GET_ATTEMPTS) {
        // Unprocessed keys are DynamoDB's throttling of a batch: the table is out of capacity now.
        throw new StoreUnavailableError(
          `the ledger store (DynamoDB table ${this.tableName}) is unavailable: BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`,
        );
      }
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
      const result = await storeCall(this.tableName, () =>
        this.documents.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        ),
      );
      items.push(...(result.Responses?.[this.tableName] ?? []));
      pending =
        (result.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined) ?? [];
    }
    return items;
  }
}

function sortByVm(reservations: Reservation[]): Reservation[] {
  return reservations.sort((a, b) => (a.vm_id < b.vm_id ? -1 : a.vm_id > b.vm_id ? 1 : 0));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
