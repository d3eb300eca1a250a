import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  paginateScan,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { applyReservationChange, netReservationChanges } from '../../engine/commit';
import { advance, genesisStep, type MerkleStep } from '../../engine/merkle-state';
import { StoreUnavailableError } from '../../errors';
import { genesisBlock } from '../../ledger';
import { TILE_HEIGHT, type TileKey, tileId } from '../../ledger/tiles';
import type { Block, ChainHead } from '../../ledger/types';
import type {
  AppendResult,
  Commit,
  HeightState,
  LedgerState,
  LedgerStore,
  MerkleLedgerStore,
  Reservation,
  TaskRecord,
  TreeHead,
  VmCounts,
} from '../../ports/ledger-store';
import { checkLimits, exceedsCapacityAlone, MAX_TRANSACTION_ITEMS, planCommit } from './commit-plan';
import { conflictFrom } from './conflicts';
import { storeCall, storePages } from './errors';
import {
  blockFromItem,
  blockToItem,
  headFromItem,
  heightStateFromItem,
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
  TRANSACTION_PREFIX,
  taskKey,
  tileKey,
  transactionKey,
  VM_PREFIX,
  vmDirectoryKey,
  vmKey,
} from './keys';
import {
  addMerkleState,
  genesisMerkleItems,
  tileFromItem,
  treeHeadAttributes,
  treeHeadFromItem,
  vmCountsFromItem,
} from './merkle-items';
import {
  addVmDirectory,
  directoryAttributes,
  directoryFromHead,
  EMPTY_DIRECTORY,
  VM_DIRECTORY_PAGE_CAPACITY,
  type VmDirectory,
  vmIdsFromPage,
} from './vm-directory';

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
  /**
   * Tile height of the stored block-hash tree (lib/ledger/tiles.ts); fixed when the table is created.
   * @default 8 (tlog-tiles)
   */
  readonly tileHeight?: number;
  /**
   * A reader that may not write the chain (the API function): it never writes genesis. Until a
   * writer has (the scheduler's first batch, the lease closer's first sweep), every read of the chain
   * throws StoreUnavailableError, which the API answers 503.
   * @default false
   */
  readonly readOnly?: boolean;
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
export class DynamoDbLedgerStore implements LedgerStore, MerkleLedgerStore {
  private readonly documents: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly leaseIndexName: string | undefined;
  private readonly genesis: Block;
  private readonly readOnly: boolean;
  private ready: Promise<void> | undefined;
  private closed = false;
  readonly tileHeight: number;
  /**
   * The tree head of the last HEAD this store read or wrote: an append on that head (the engine's
   * readState then append) needs no read to compute its tiles.
   */
  private lastTreeHead: TreeHead | undefined;
  /** The VM directory (vm-directory.ts) of that same HEAD; null when HEAD has none. */
  private lastDirectory: VmDirectory | null | undefined;
  /**
   * VMs this store has seen a VM# item of (read or written). Items are never deleted, so each is
   * in the directory already; an append adds to the directory only the VMs of its commit not in here.
   */
  private readonly knownVms = new Set<string>();

  constructor(options: DynamoDbLedgerStoreOptions) {
    this.documents = DynamoDBDocumentClient.from(options.client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    this.tableName = options.tableName;
    this.leaseIndexName = options.leaseIndexName;
    this.genesis = options.genesis ?? genesisBlock();
    this.readOnly = options.readOnly ?? false;
    this.tileHeight = options.tileHeight ?? TILE_HEIGHT;
  }

  async readHead(): Promise<ChainHead> {
    this.assertOpen();
    await this.ensureGenesis();
    const item = await this.getItem(HEAD_KEY);
    if (!item) throw new Error(`table ${this.tableName} has no ${HEAD_KEY} item after genesis`);
    this.rememberTreeHead(item);
    return headFromItem(item);
  }

  async append(expected: ChainHead, commit: Commit): Promise<AppendResult> {
    this.assertOpen();
    await this.ensureGenesis();
    const plan = planCommit(this.tableName, expected, commit);
    const alone = exceedsCapacityAlone(commit.reservations);
    if (alone) return { ok: false, conflict: 'over-capacity', detail: alone };
    let previous = await this.treeHeadAt(expected);
    if ('moved' in previous) return previous.moved;
    if (!this.lastDirectory) {
      await this.buildVmDirectory();
      previous = await this.treeHeadAt(expected);
      if ('moved' in previous) return previous.moved;
    }
    const directory = this.lastDirectory ?? EMPTY_DIRECTORY;
    const merkle = advance(previous.treeHead, commit.blocks, this.tileHeight);
    addMerkleState(plan, this.tableName, merkle, this.tileHeight);
    const touched = [
      ...new Set([...commit.reservations.map((r) => r.vm_id), ...merkle.vmCounts.map((c) => c.vm_id)]),
    ];
    const nextDirectory = addVmDirectory(
      plan,
      this.tableName,
      directory,
      touched.filter((id) => !this.knownVms.has(id)).sort(),
    );
    checkLimits(plan);
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
    this.lastTreeHead = merkle.treeHead;
    this.lastDirectory = nextDirectory;
    for (const id of touched) this.knownVms.add(id);
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

  /**
   * The incremental audit's duplicate-id check for a page of transactions: one consistent BatchGetItem
   * per 100 distinct ids (unprocessed keys are retried with backoff, see batchGet), not a GetItem each.
   */
  async findTransactions(
    transactionIds: readonly string[],
  ): Promise<({ height: number; index: number } | null)[]> {
    this.assertOpen();
    const distinct = [...new Set(transactionIds)];
    const found = new Map<string, { height: number; index: number }>();
    for (let i = 0; i < distinct.length; i += BATCH_GET_KEYS) {
      for (const item of await this.batchGet(distinct.slice(i, i + BATCH_GET_KEYS).map(transactionKey))) {
        found.set(
          (item[PARTITION_KEY] as string).slice(TRANSACTION_PREFIX.length),
          transactionLocationFromItem(item),
        );
      }
    }
    return transactionIds.map((id) => {
      const position = found.get(id);
      return position ? { ...position } : null;
    });
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
   * every VM, as readVmLedger (through the VM directory).
   */
  async getReservations(vmIds?: readonly string[]): Promise<Reservation[]> {
    this.assertOpen();
    if (vmIds) return this.reservationsOf(vmIds);
    return (await this.readVmLedger()).reservations;
  }

  /**
   * Every VM's counts and reservation, for a summary: HEAD, the VM directory's pages (one
   * BatchGetItem per 100 pages of 500 VMs) and the VM items (one BatchGetItem per 100 VMs), so the
   * cost follows the number of VMs the ledger ever named, never the chain's height or the table's size.
   * On a table whose HEAD has no directory yet (written before it, see vm-directory.ts) a filtered Scan.
   */
  async readVmLedger(): Promise<{ counts: VmCounts[]; reservations: Reservation[] }> {
    this.assertOpen();
    const items = await this.listVmItems();
    return {
      counts: items
        .map(vmCountsFromItem)
        .filter((c): c is VmCounts => c !== null)
        .sort((a, b) => (a.vm_id < b.vm_id ? -1 : a.vm_id > b.vm_id ? 1 : 0)),
      reservations: sortByVm(items.map(reservationFromItem)),
    };
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

  /** One strongly consistent read of HEAD, whatever the height. */
  async readTreeHead(): Promise<TreeHead> {
    this.assertOpen();
    await this.ensureGenesis();
    for (let attempt = 0; ; attempt++) {
      const item = await this.getItem(HEAD_KEY);
      if (!item) throw new Error(`table ${this.tableName} has no ${HEAD_KEY} item after genesis`);
      const tree = this.rememberTreeHead(item);
      if (tree) return structuredClone(tree);
      if (attempt > 0)
        throw new Error(`table ${this.tableName}: HEAD still has no tree head after building it`);
      await this.buildMerkleState();
    }
  }

  /** One consistent BatchGetItem per 100 tiles (a proof asks for a few per level). */
  async readTiles(keys: readonly TileKey[]): Promise<Map<string, Uint8Array>> {
    this.assertOpen();
    const distinct = [...new Map(keys.map((k) => [tileId(k), k])).values()];
    const found = new Map<string, Uint8Array>();
    for (let i = 0; i < distinct.length; i += BATCH_GET_KEYS) {
      const items = await this.batchGet(
        distinct.slice(i, i + BATCH_GET_KEYS).map((k) => tileKey(k.level, k.index)),
      );
      for (const item of items) found.set(`${item.level}/${item.index}`, tileFromItem(item));
    }
    return found;
  }

  /**
   * With `vmIds`: one consistent BatchGetItem per 100 VMs. Without: as readVmLedger.
   */
  async readVmCounts(vmIds?: readonly string[]): Promise<VmCounts[]> {
    this.assertOpen();
    const items: Record<string, unknown>[] = [];
    if (vmIds) {
      const distinct = [...new Set(vmIds)];
      for (let i = 0; i < distinct.length; i += BATCH_GET_KEYS) {
        items.push(...(await this.batchGet(distinct.slice(i, i + BATCH_GET_KEYS).map(vmKey))));
      }
    } else {
      return (await this.readVmLedger()).counts;
    }
    return items
      .map(vmCountsFromItem)
      .filter((c): c is VmCounts => c !== null)
      .sort((a, b) => (a.vm_id < b.vm_id ? -1 : a.vm_id > b.vm_id ? 1 : 0));
  }

  /** One consistent BatchGetItem of the block items asked (read by key, whatever the height). */
  async readHeightStates(heights: readonly number[]): Promise<(HeightState | null)[]> {
    this.assertOpen();
    await this.ensureGenesis();
    const valid = [...new Set(heights.filter((h) => Number.isSafeInteger(h) && h >= 0))];
    const found = new Map<number, HeightState | null>();
    for (let i = 0; i < valid.length; i += BATCH_GET_KEYS) {
      for (const item of await this.batchGet(valid.slice(i, i + BATCH_GET_KEYS).map(blockKey))) {
        found.set(item.height as number, heightStateFromItem(item));
      }
    }
    return heights.map((h) => found.get(h) ?? null);
  }

  /** Ends this store object; the client stays open, since the caller owns it. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`DynamoDbLedgerStore on ${this.tableName} is closed`);
  }

  /** Keeps the tree head a HEAD item carries; refuses one written with another tile height. */
  private rememberTreeHead(item: Record<string, unknown>): TreeHead | undefined {
    const tree = treeHeadFromItem(item);
    if (!tree) return undefined;
    if (tree.tileHeight !== this.tileHeight) {
      throw new Error(
        `table ${this.tableName} keeps Merkle tiles of height ${tree.tileHeight}, not ${this.tileHeight}`,
      );
    }
    this.lastTreeHead = tree.treeHead;
    this.lastDirectory = directoryFromHead(item);
    return tree.treeHead;
  }

  /**
   * The VM items of every VM the directory lists (read by key), or of every VM# item (a Scan) when
   * HEAD has no directory. Every VM returned becomes known (see knownVms).
   */
  private async listVmItems(): Promise<Record<string, unknown>[]> {
    await this.ensureGenesis();
    const head = await this.getItem(HEAD_KEY);
    if (!head) throw new Error(`table ${this.tableName} has no ${HEAD_KEY} item after genesis`);
    const directory = directoryFromHead(head);
    const items: Record<string, unknown>[] = [];
    if (directory) {
      const ids = new Set<string>();
      const pageKeys = Array.from({ length: directory.pages }, (_, i) => vmDirectoryKey(i));
      for (let i = 0; i < pageKeys.length; i += BATCH_GET_KEYS) {
        for (const page of await this.batchGet(pageKeys.slice(i, i + BATCH_GET_KEYS))) {
          for (const id of vmIdsFromPage(page)) ids.add(id);
        }
      }
      const keys = [...ids].sort().map(vmKey);
      for (let i = 0; i < keys.length; i += BATCH_GET_KEYS) {
        items.push(...(await this.batchGet(keys.slice(i, i + BATCH_GET_KEYS))));
      }
    } else {
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
      for await (const page of storePages(this.tableName, pages)) items.push(...(page.Items ?? []));
    }
    for (const item of items) if (typeof item.vm_id === 'string') this.knownVms.add(item.vm_id);
    return items;
  }

  /**
   * Builds the VM directory of a table whose HEAD has none (vm-directory.ts): every VM id a
   * non-rejected transaction of the chain names (the only VMs with a VM# item), read once from the
   * blocks, ADDed to pages (a union: a concurrent or earlier build never loses an id), then HEAD is put
   * back with the directory only if it is still the head the chain was read at and has none. A writer
   * that moved the head meanwhile makes the build start over. Uses only the writer's grants (reads by
   * key, UpdateItem on VMDIR#, PutItem on HEAD): writers may not Scan.
   */
  private async buildVmDirectory(): Promise<void> {
    for (;;) {
      const head = await this.getItem(HEAD_KEY);
      if (!head) throw new Error(`table ${this.tableName} has no ${HEAD_KEY} item after genesis`);
      if (directoryFromHead(head)) {
        this.rememberTreeHead(head);
        return;
      }
      const { height, hash } = headFromItem(head);
      const ids = new Set<string>();
      for (let from = 1; from <= height; from += BATCH_GET_KEYS) {
        for (const block of await this.getBlocks(from, Math.min(BATCH_GET_KEYS, height - from + 1))) {
          for (const tx of block.transactions)
            if (tx.vm_id !== null && tx.status !== 'rejected') ids.add(tx.vm_id);
        }
      }
      const sorted = [...ids].sort();
      const pages: string[][] = [];
      for (let i = 0; i < sorted.length; i += VM_DIRECTORY_PAGE_CAPACITY) {
        pages.push(sorted.slice(i, i + VM_DIRECTORY_PAGE_CAPACITY));
      }
      for (const [index, page] of pages.entries()) {
        await storeCall(this.tableName, () =>
          this.documents.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { [PARTITION_KEY]: vmDirectoryKey(index) },
              UpdateExpression: 'ADD #ids :ids',
              ExpressionAttributeNames: { '#ids': 'vm_ids' },
              ExpressionAttributeValues: { ':ids': new Set(page) },
            }),
          ),
        );
      }
      const directory: VmDirectory = {
        pages: Math.max(1, pages.length),
        tail: pages.at(-1)?.length ?? 0,
      };
      try {
        await storeCall(this.tableName, () =>
          this.documents.send(
            new PutCommand({
              TableName: this.tableName,
              Item: { ...head, ...directoryAttributes(directory) },
              ConditionExpression: '#height = :height AND #hash = :hash AND attribute_not_exists(#pages)',
              ExpressionAttributeNames: { '#height': 'height', '#hash': 'hash', '#pages': 'vmdir_pages' },
              ExpressionAttributeValues: { ':height': height, ':hash': hash },
            }),
          ),
        );
        for (const id of sorted) this.knownVms.add(id);
        // HEAD is the same head with the directory added: a tree head remembered for it stays right.
        this.lastDirectory = directory;
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  /**
   * The tree head of `expected`: remembered from the last HEAD read or written, else read. When HEAD is
   * no longer `expected` the append cannot succeed, and says so without sending the transaction.
   */
  private async treeHeadAt(expected: ChainHead): Promise<{ treeHead: TreeHead } | { moved: AppendResult }> {
    const cached = this.lastTreeHead;
    if (cached && cached.head.height === expected.height && cached.head.hash === expected.hash) {
      return { treeHead: cached };
    }
    const treeHead = await this.readTreeHead();
    if (treeHead.head.height !== expected.height || treeHead.head.hash !== expected.hash) {
      return {
        moved: {
          ok: false,
          conflict: 'head-moved',
          detail: `head is no longer height ${expected.height} (${expected.hash})`,
          head: treeHead.head,
        },
      };
    }
    return { treeHead };
  }

  /**
   * Builds the Merkle state of a table written before it existed: reads every block once, writes every
   * tile (whole, replacing any a failed earlier build left), then sets the tree head on HEAD only if
   * HEAD is still the head the tiles were built for and has none yet. A writer that moved the head
   * meanwhile makes the build start over; once HEAD has a tree head, appends keep it up to date.
   */
  private async buildMerkleState(): Promise<void> {
    for (;;) {
      const head = await this.readHead();
      let step: MerkleStep = genesisStep(this.genesis, this.tileHeight);
      const tiles = new Map<string, { level: number; index: number; hashes: Uint8Array[] }>();
      const collect = (s: MerkleStep) => {
        for (const a of s.tiles) {
          const id = tileId(a);
          const tile = tiles.get(id) ?? { level: a.level, index: a.index, hashes: [] };
          tile.hashes.push(...a.hashes);
          tiles.set(id, tile);
        }
      };
      collect(step);
      const vmCounts = new Map<string, VmCounts>();
      for (let from = 1; from <= head.height; from += BATCH_GET_KEYS) {
        const blocks = await this.getBlocks(from, Math.min(BATCH_GET_KEYS, head.height - from + 1));
        step = advance(step.treeHead, blocks, this.tileHeight);
        collect(step);
        for (const d of step.vmCounts) {
          const c = vmCounts.get(d.vm_id) ?? {
            vm_id: d.vm_id,
            assigned: 0,
            completed: 0,
            failed: 0,
            expired: 0,
          };
          vmCounts.set(d.vm_id, {
            ...c,
            assigned: c.assigned + d.assigned,
            completed: c.completed + d.completed,
            failed: c.failed + d.failed,
            expired: c.expired + d.expired,
          });
        }
      }
      if (step.treeHead.head.hash !== head.hash) continue;
      for (const tile of tiles.values()) {
        await storeCall(this.tableName, () =>
          this.documents.send(
            new PutCommand({
              TableName: this.tableName,
              Item: {
                [PARTITION_KEY]: tileKey(tile.level, tile.index),
                level: tile.level,
                index: tile.index,
                hashes: tile.hashes,
              },
            }),
          ),
        );
      }
      // Per-VM counts are set whole (not added), so a repeated build counts nothing twice.
      for (const c of vmCounts.values()) {
        await storeCall(this.tableName, () =>
          this.documents.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { [PARTITION_KEY]: vmKey(c.vm_id) },
              UpdateExpression:
                'SET vmcount_assigned = :a, vmcount_completed = :c, vmcount_failed = :f, vmcount_expired = :e',
              ConditionExpression: 'attribute_exists(#pk)',
              ExpressionAttributeNames: { '#pk': PARTITION_KEY },
              ExpressionAttributeValues: {
                ':a': c.assigned,
                ':c': c.completed,
                ':f': c.failed,
                ':e': c.expired,
              },
            }),
          ),
        ).catch((error: unknown) => {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        });
      }
      const attributes = treeHeadAttributes(step.treeHead, this.tileHeight);
      const names: Record<string, string> = { '#height': 'height', '#hash': 'hash', '#size': 'tree_size' };
      const values: Record<string, unknown> = { ':height': head.height, ':hash': head.hash };
      const sets = Object.entries(attributes).map(([name, value], i) => {
        names[`#a${i}`] = name;
        values[`:a${i}`] = value;
        return `#a${i} = :a${i}`;
      });
      try {
        await storeCall(this.tableName, () =>
          this.documents.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { [PARTITION_KEY]: HEAD_KEY },
              UpdateExpression: `SET ${sets.join(', ')}`,
              ConditionExpression: '#height = :height AND #hash = :hash AND attribute_not_exists(#size)',
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            }),
          ),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        const now = await this.getItem(HEAD_KEY);
        if (now && treeHeadFromItem(now)) return;
      }
    }
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
    if (this.readOnly) {
      throw new StoreUnavailableError(
        `the ledger in ${this.tableName} has not started yet: the scheduler or the lease closer writes its genesis block on its first run`,
      );
    }
    const merkle = genesisMerkleItems(genesisStep(this.genesis, this.tileHeight), this.tileHeight);
    const absent = {
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': PARTITION_KEY },
    };
    try {
      await storeCall(this.tableName, () =>
        this.documents.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...blockToItem(this.genesis), transaction_total: this.genesis.transactions.length },
                  ...absent,
                },
              },
              {
                Put: {
                  TableName: this.tableName,
                  Item: {
                    [PARTITION_KEY]: HEAD_KEY,
                    height: this.genesis.height,
                    hash: this.genesis.block_hash,
                    ...merkle.head,
                    ...directoryAttributes(EMPTY_DIRECTORY),
                  },
                  ...absent,
                },
              },
              ...merkle.tiles.map((Item) => ({ Put: { TableName: this.tableName, Item, ...absent } })),
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
    for (const r of reservations) this.knownVms.add(r.vm_id);
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
    this.rememberTreeHead(head);
    const present = (slice: (Record<string, unknown> | undefined)[]) =>
      slice.filter((item): item is Record<string, unknown> => item !== undefined);
    const reservations = present(items.slice(1 + taskIds.length)).map(reservationFromItem);
    for (const r of reservations) this.knownVms.add(r.vm_id);
    return {
      head: headFromItem(head),
      tasks: present(items.slice(1, 1 + taskIds.length)).map(taskFromItem),
      reservations,
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
