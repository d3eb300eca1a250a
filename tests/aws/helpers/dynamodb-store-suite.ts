import { type DynamoDBClient, ScanCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  ScanCommand as DocumentScanCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CommitTooLargeError,
  commitItemCount,
  DynamoDbLedgerStore,
  LEASE_INDEX_NAME,
  MAX_LEDGER_ITEMS,
  MAX_TRANSACTION_ITEMS,
  MalformedCommitError,
  maxTasksPerCommit,
  maxTasksPerCommitOnFleet,
} from '../../../lib/adapters/dynamodb';
import { planCommit } from '../../../lib/adapters/dynamodb/commit-plan';
import { auditSince, emptyCheckpoint } from '../../../lib/engine/incremental-audit';
import { LedgerReader } from '../../../lib/engine/ledger-reader';
import { buildBlocks, genesisBlock, toTimestamp } from '../../../lib/ledger';
import type { AppendResult, Commit } from '../../../lib/ports/ledger-store';
import {
  CAPACITY,
  commitFor,
  decision,
  ledgerStoreContract,
  record,
  reserve,
  T0,
} from '../../contract/ledger-store.case';
import { chainOnly, merkleStateContract } from '../../contract/merkle-state.case';
import { createLedgerTable } from './ledger-table';

/**
 * The DynamoDB ledger store's suites (the ledger-store and Merkle-state contracts, and the store's own
 * behaviour on a real DynamoDB API) against one emulator: MiniStack (dynamodb-store.test.ts) and moto's
 * server (dynamodb-store-moto.test.ts). `makeClient` builds a client of that emulator; the suite
 * destroys the one it keeps.
 */
export function dynamoDbStoreSuite(name: string, makeClient: () => DynamoDBClient): void {
  const client = makeClient();
  afterAll(() => client.destroy());

  ledgerStoreContract(
    name,
    async () => {
      const table = await createLedgerTable(client);
      const store = new DynamoDbLedgerStore({ client, tableName: table.tableName });
      return {
        store,
        cleanup: async () => {
          await store.close();
          await table.drop();
        },
      };
    },
    { timeout: 120_000 },
  );

  merkleStateContract(
    name,
    async ({ tileHeight }) => {
      const table = await createLedgerTable(client);
      const store = new DynamoDbLedgerStore({
        client,
        tableName: table.tableName,
        ...(tileHeight === undefined ? {} : { tileHeight }),
      });
      return {
        store,
        cleanup: async () => {
          await store.close();
          await table.drop();
        },
      };
    },
    { timeout: 180_000, smallTileBlocks: 120, realTileBlocks: 270 },
  );

  describe(`DynamoDbLedgerStore on ${name}`, () => {
    async function freshStore(options: { withLeaseIndex?: boolean } = {}) {
      const table = await createLedgerTable(client, options);
      const store = new DynamoDbLedgerStore({
        client,
        tableName: table.tableName,
        ...(options.withLeaseIndex ? { leaseIndexName: LEASE_INDEX_NAME } : {}),
      });
      return { store, table };
    }

    async function keysIn(tableName: string): Promise<string[]> {
      const result = await client.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }));
      return (result.Items ?? []).map((item) => item.pk!.S!).sort();
    }

    it('lays items out under the documented keys (the CDK stack and IAM rely on them)', async () => {
      const { store, table } = await freshStore();
      const head = await store.readHead();
      const tx = decision('t-1', 'vm-1', { cpu: 100 });
      expect(await store.append(head, commitFor(head, [tx]))).toMatchObject({ ok: true });

      expect(await keysIn(table.tableName)).toEqual(
        [
          'BLOCK#000000000000',
          'BLOCK#000000000001',
          'HEAD',
          'TASK#t-1',
          'TILE#0#000000000000',
          `TX#${tx.transaction_id}`,
          'VM#vm-1',
          'VMDIR#000000',
        ].sort(),
      );
      const documents = DynamoDBDocumentClient.from(client);
      const items = (await documents.send(new DocumentScanCommand({ TableName: table.tableName }))).Items!;
      const vm = items.find((i) => i.pk === 'VM#vm-1');
      expect(vm).toEqual({
        pk: 'VM#vm-1',
        vm_id: 'vm-1',
        active_tasks: 1,
        reserved_cpu: 100,
        capacity_cpu: CAPACITY.cpu,
        capacity_mem: CAPACITY.mem,
        vmcount_assigned: 1,
      });
      const tile = items.find((i) => i.pk === 'TILE#0#000000000000');
      expect(tile).toMatchObject({ level: 0, index: 0 });
      expect(tile!.hashes).toHaveLength(2);
      expect(items.find((i) => i.pk === 'HEAD')).toMatchObject({
        height: 1,
        tile_height: 8,
        tree_size: 2,
        count_transactions: 1,
        count_assigned: 1,
        vmdir_pages: 1,
        vmdir_tail: 1,
      });
      expect(items.find((i) => i.pk === 'VMDIR#000000')).toEqual({
        pk: 'VMDIR#000000',
        vm_ids: new Set(['vm-1']),
      });
      await table.drop();
    });

    it('writes genesis exactly once when several stores start on an empty table at the same time', async () => {
      const { table } = await freshStore();
      const stores = Array.from(
        { length: 5 },
        () => new DynamoDbLedgerStore({ client, tableName: table.tableName }),
      );
      const heads = await Promise.all(stores.map((s) => s.readHead()));
      expect(heads).toEqual(heads.map(() => ({ height: 0, hash: genesisBlock().block_hash })));
      expect(await keysIn(table.tableName)).toEqual(['BLOCK#000000000000', 'HEAD', 'TILE#0#000000000000']);
      await table.drop();
    });

    it('lets exactly one of two stores (separate clients) win the same height', async () => {
      const { store, table } = await freshStore();
      const other = new DynamoDbLedgerStore({ client: makeClient(), tableName: table.tableName });
      const head = await store.readHead();
      const results: AppendResult[] = await Promise.all([
        store.append(head, commitFor(head, [decision('a', 'vm-1', { cpu: 10 })])),
        other.append(head, commitFor(head, [decision('b', 'vm-1', { cpu: 10 })])),
      ]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.find((r) => !r.ok)).toMatchObject({ ok: false, conflict: 'head-moved' });
      expect((await store.getReservations())[0]).toMatchObject({ reserved: { cpu: 10 }, active_tasks: 1 });
      await table.drop();
    });

    /** A client of its own that records the name of every command it sends. */
    function countingStore(tableName: string) {
      const counted = makeClient();
      const sent: string[] = [];
      counted.middlewareStack.add(
        (next, context) => (args) => {
          sent.push(context.commandName ?? 'unknown');
          return next(args);
        },
        { step: 'initialize', name: 'countCommands' },
      );
      return { store: new DynamoDbLedgerStore({ client: counted, tableName }), sent, client: counted };
    }

    it('reads the reservations of given VMs by key, without scanning the table', async () => {
      const { store, table } = await freshStore();
      const head = await store.readHead();
      const txs = Array.from({ length: 6 }, (_, i) => decision(`t-${i}`, `vm-${i % 3}`, { cpu: 10 }));
      expect(await store.append(head, commitFor(head, txs))).toMatchObject({ ok: true });
      const counting = countingStore(table.tableName);
      await counting.store.readHead();
      counting.sent.length = 0;

      const reservations = await counting.store.getReservations(['vm-2', 'vm-0', 'vm-9']);
      expect(reservations.map((r) => [r.vm_id, r.reserved.cpu, r.active_tasks])).toEqual([
        ['vm-0', 20, 2],
        ['vm-2', 20, 2],
      ]);
      expect(counting.sent).toEqual(['BatchGetItemCommand']);
      counting.client.destroy();
      await table.drop();
    });

    it('reads head, tasks and reservations with one TransactGetItems, and falls back past 100 keys', async () => {
      const { store, table } = await freshStore();
      const head = await store.readHead();
      const txs = [decision('a', 'vm-1', { cpu: 10 }), decision('b', 'vm-2', { cpu: 20 })];
      expect(await store.append(head, commitFor(head, txs))).toMatchObject({ ok: true });
      const counting = countingStore(table.tableName);
      await counting.store.readHead();
      counting.sent.length = 0;

      const state = await counting.store.readState(['b', 'x', 'a'], ['vm-1', 'vm-2', 'vm-3']);
      expect(counting.sent).toEqual(['TransactGetItemsCommand']);
      expect(state).toEqual({
        head: await store.readHead(),
        tasks: [await store.getTask('b'), null, await store.getTask('a')],
        reservations: await store.getReservations(['vm-1', 'vm-2']),
      });

      // 1 + 100 task keys + 1 VM key do not fit one TransactGetItems: head first, then the rest.
      const many = ['a', ...Array.from({ length: 99 }, (_, i) => `none-${i}`), 'b'];
      counting.sent.length = 0;
      const large = await counting.store.readState(many, ['vm-2']);
      expect(counting.sent).not.toContain('TransactGetItemsCommand');
      expect(counting.sent).not.toContain('ScanCommand');
      expect(large).toEqual({
        head: state.head,
        tasks: await store.getTasks(many),
        reservations: await store.getReservations(['vm-2']),
      });
      counting.client.destroy();
      await table.drop();
    });

    it('tries a readState cancelled by a commit in flight again, then falls back to head-then-items', async () => {
      const { store, table } = await freshStore();
      const head = await store.readHead();
      expect(await store.append(head, commitFor(head, [decision('a', 'vm-1', { cpu: 10 })]))).toMatchObject({
        ok: true,
      });
      const expected = {
        head: await store.readHead(),
        tasks: [await store.getTask('a'), null],
        reservations: await store.getReservations(['vm-1']),
      };
      for (const [cancellations, snapshots] of [
        [2, 3], // the third TransactGetItems goes through
        [Number.POSITIVE_INFINITY, 3], // every one is cancelled: three tries, then the fallback
      ]) {
        const counting = countingStore(table.tableName);
        await counting.store.readHead();
        let cancelled = 0;
        // As AWS answers a TransactGetItems that meets a transaction in flight (MiniStack never does).
        counting.client.middlewareStack.add(
          (next, context) => (args) => {
            if (context.commandName === 'TransactGetItemsCommand' && cancelled < cancellations!) {
              cancelled++;
              throw new TransactionCanceledException({
                message: 'Transaction cancelled',
                $metadata: {},
                CancellationReasons: [{ Code: 'TransactionConflict' }],
              });
            }
            return next(args);
          },
          { step: 'initialize', name: 'cancelSnapshots', priority: 'low' },
        );
        counting.sent.length = 0;
        expect(await counting.store.readState(['a', 'b'], ['vm-1', 'vm-2'])).toEqual(expected);
        expect(counting.sent.filter((c) => c === 'TransactGetItemsCommand')).toHaveLength(snapshots!);
        const fellBack = counting.sent.includes('GetItemCommand');
        expect(fellBack).toBe(cancellations === Number.POSITIVE_INFINITY);
        counting.client.destroy();
      }
      await table.drop();
    });

    it('gives every readState one point in time while writers commit', async () => {
      const { store, table } = await freshStore();
      const ids = Array.from({ length: 12 }, (_, i) => `s-${i}`);
      let writing = true;
      const writer = (async () => {
        try {
          for (const id of ids) {
            const head = await store.readHead();
            expect(
              await store.append(head, commitFor(head, [decision(id, 'vm-1', { cpu: 1 })])),
            ).toMatchObject({
              ok: true,
            });
          }
        } finally {
          writing = false;
        }
      })();
      const reader = new DynamoDbLedgerStore({ client: makeClient(), tableName: table.tableName });
      const seen: { height: number; tasks: number; active: number }[] = [];
      while (writing) {
        const state = await reader.readState(ids, ['vm-1']);
        seen.push({
          height: state.head.height,
          tasks: state.tasks.filter((t) => t !== null).length,
          active: state.reservations[0]?.active_tasks ?? 0,
        });
      }
      await writer;
      // Each commit is one block with one task on vm-1: in a consistent view all three counts agree.
      expect(seen.length).toBeGreaterThan(0);
      for (const view of seen)
        expect(view).toEqual({ height: view.height, tasks: view.height, active: view.height });
      await table.drop();
    });

    it('reports the winning head with a lost race, so the loser need not read it', async () => {
      const { store, table } = await freshStore();
      const loser = new DynamoDbLedgerStore({ client, tableName: table.tableName });
      const stale = await loser.readHead();
      expect(await store.append(stale, commitFor(stale, [decision('a', 'vm-1', { cpu: 1 })]))).toMatchObject({
        ok: true,
      });
      // The loser read HEAD (with its tree head) at `stale`, so it sends the transaction, which fails.
      const result = await loser.append(stale, commitFor(stale, [decision('b', 'vm-1', { cpu: 1 })]));
      expect(result).toEqual({
        ok: false,
        conflict: 'head-moved',
        detail: expect.stringContaining('HEAD: ConditionalCheckFailed'),
        head: await store.readHead(),
      });
      // A store that knows the head moved (it wrote the newer one) says so without a transaction.
      expect(await store.append(stale, commitFor(stale, [decision('c', 'vm-1', { cpu: 1 })]))).toEqual({
        ok: false,
        conflict: 'head-moved',
        detail: expect.stringContaining('head is no longer height 0'),
        head: await store.readHead(),
      });
      await table.drop();
    });

    it('checks an audit page of transaction ids with one BatchGetItem per 100 ids, retrying unprocessed keys', async () => {
      const { store, table } = await freshStore();
      const perCommit = 25;
      const total = 250;
      for (let done = 0; done < total; done += perCommit) {
        const head = await store.readHead();
        const txs = Array.from({ length: perCommit }, (_, i) => decision(`a-${done + i}`, null, { cpu: 1 }));
        expect(await store.append(head, commitFor(head, txs))).toMatchObject({ ok: true });
      }
      const counting = countingStore(table.tableName);
      const txKeys: number[] = [];
      let withheld = 0;
      // Records the TX# keys of each request, and answers the first batch of them as AWS does under
      // throttling: half its keys come back in UnprocessedKeys (the store retries them after a pause).
      counting.client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { RequestItems?: Record<string, { Keys: Record<string, unknown>[] }> };
          const request = input.RequestItems?.[table.tableName];
          const isTx = (k: Record<string, unknown>) => JSON.stringify(k.pk).includes('TX#');
          if (context.commandName === 'GetItemCommand') {
            expect(JSON.stringify(args.input)).not.toContain('TX#');
          }
          if (context.commandName !== 'BatchGetItemCommand' || !request?.Keys.some(isTx)) return next(args);
          txKeys.push(request.Keys.length);
          if (withheld > 0) return next(args);
          const keys = request.Keys;
          const kept = keys.slice(0, Math.ceil(keys.length / 2));
          withheld = keys.length - kept.length;
          request.Keys = kept;
          const result = await next(args);
          (result.output as { UnprocessedKeys?: unknown }).UnprocessedKeys = {
            [table.tableName]: { Keys: keys.slice(kept.length), ConsistentRead: true },
          };
          return result;
        },
        { step: 'initialize', name: 'recordTxKeys', priority: 'low' },
      );
      const run = await auditSince(counting.store, emptyCheckpoint(), { pageSize: 500 });
      expect(run).toMatchObject({ valid: true, incomplete: false, transactions_checked: total });
      // 250 ids on one page: 100 + 100 + 50, the first answered in part and its other half retried;
      // no GetItem names a TX# key (the middleware above fails the run if one does).
      expect(withheld).toBe(50);
      expect(txKeys).toEqual([100, 50, 100, 50]);
      counting.client.destroy();
      await table.drop();
    });

    /** Commits of `rounds` x (three assignments on vm-0..vm-2 plus a rejection). */
    async function grow(
      store: DynamoDbLedgerStore,
      rounds: number,
      tag: string,
      vms = ['vm-0', 'vm-1', 'vm-2'],
    ) {
      for (let r = 0; r < rounds; r++) {
        const head = await store.readHead();
        const txs = [
          ...vms.map((vm, i) => decision(`${tag}-${r}-${i}`, vm, { cpu: 1 })),
          decision(`${tag}-${r}-x`, null, { cpu: 1 }),
        ];
        expect(await store.append(head, commitFor(head, txs))).toMatchObject({ ok: true });
      }
    }

    it('answers a cold summary with the same few reads by key at any height, never a Scan (the VM directory)', async () => {
      const { store, table } = await freshStore();
      await grow(store, 2, 'a');
      const summaryAt = async () => {
        const counting = countingStore(table.tableName);
        const summary = await new LedgerReader(counting.store).summary();
        counting.client.destroy();
        return { summary, sent: counting.sent };
      };
      const small = await summaryAt();
      await grow(store, 20, 'b');
      const large = await summaryAt();
      expect(large.summary.height).toBe(small.summary.height + 20);
      // genesis check, HEAD (tree head), HEAD (directory), the directory's page, the VM items.
      expect(large.sent).toEqual([
        'GetItemCommand',
        'GetItemCommand',
        'GetItemCommand',
        'BatchGetItemCommand',
        'BatchGetItemCommand',
      ]);
      expect(small.sent).toEqual(large.sent);
      expect(large.summary).toEqual(await new LedgerReader(chainOnly(store)).summary());
      expect(large.summary.vms.map((v) => [v.vm_id, v.assignments, v.active_tasks])).toEqual([
        ['vm-0', 22, 22],
        ['vm-1', 22, 22],
        ['vm-2', 22, 22],
      ]);
      await table.drop();
    });

    it('reads a table written before the VM directory by a Scan until its next writer builds the directory from the chain', async () => {
      const { store, table } = await freshStore();
      await grow(store, 3, 'a');
      const expected = await new LedgerReader(chainOnly(store)).summary();
      // What a table of the previous version holds (or a HEAD an older writer replaced): no directory.
      const documents = DynamoDBDocumentClient.from(client);
      await documents.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { pk: 'HEAD' },
          UpdateExpression: 'REMOVE vmdir_pages, vmdir_tail',
        }),
      );
      await documents.send(new DeleteCommand({ TableName: table.tableName, Key: { pk: 'VMDIR#000000' } }));

      const reading = countingStore(table.tableName);
      expect(await new LedgerReader(reading.store).summary()).toEqual(expected);
      expect(reading.sent).toContain('ScanCommand');
      reading.client.destroy();

      // A writer of this version rebuilds the directory before its first append (reads by key only:
      // writers may not Scan), then adds the new VM in its append.
      const writing = countingStore(table.tableName);
      await grow(writing.store, 1, 'b', ['vm-0', 'vm-9']);
      expect(writing.sent).not.toContain('ScanCommand');
      writing.client.destroy();
      const items = (await documents.send(new DocumentScanCommand({ TableName: table.tableName }))).Items!;
      expect(items.find((i) => i.pk === 'HEAD')).toMatchObject({ vmdir_pages: 1, vmdir_tail: 4 });
      expect(items.find((i) => i.pk === 'VMDIR#000000')?.vm_ids).toEqual(
        new Set(['vm-0', 'vm-1', 'vm-2', 'vm-9']),
      );

      const after = countingStore(table.tableName);
      const summary = await new LedgerReader(after.store).summary();
      expect(after.sent).not.toContain('ScanCommand');
      expect(summary).toEqual(await new LedgerReader(chainOnly(store)).summary());
      expect(summary.vms.map((v) => v.vm_id)).toEqual(['vm-0', 'vm-1', 'vm-2', 'vm-9']);
      after.client.destroy();
      await table.drop();
    });

    it('adds a VM to the directory only in the append that may create its item', async () => {
      const { store, table } = await freshStore();
      await grow(store, 1, 'a');
      // A store that read the VMs (as the engine's readState does) adds none of them again.
      const other = countingStore(table.tableName);
      await other.store.readState([], ['vm-0', 'vm-1', 'vm-2']);
      const added: string[] = [];
      other.client.middlewareStack.add(
        (next, context) => (args) => {
          if (context.commandName === 'TransactWriteItemsCommand') {
            for (const item of (args.input as { TransactItems: { Update?: { Key: { pk: unknown } } }[] })
              .TransactItems) {
              const key = JSON.stringify(item.Update?.Key.pk ?? '');
              if (key.includes('VMDIR#')) added.push(key);
            }
          }
          return next(args);
        },
        { step: 'initialize', name: 'directoryWrites', priority: 'low' },
      );
      await grow(other.store, 2, 'b');
      expect(added).toEqual([]);
      await grow(other.store, 1, 'c', ['vm-0', 'vm-7']);
      expect(added).toHaveLength(1);
      other.client.destroy();
      const documents = DynamoDBDocumentClient.from(client);
      const page = await documents.send(
        new GetCommand({ TableName: table.tableName, Key: { pk: 'VMDIR#000000' } }),
      );
      expect(page.Item?.vm_ids).toEqual(new Set(['vm-0', 'vm-1', 'vm-2', 'vm-7']));
      await table.drop();
    });

    it('builds the Merkle state of a table written before it existed, then appends on it', async () => {
      const { store, table } = await freshStore();
      for (let i = 0; i < 6; i++) {
        const head = await store.readHead();
        const vm = i % 3 === 0 ? null : `vm-${i % 2}`;
        expect(await store.append(head, commitFor(head, [decision(`t-${i}`, vm, { cpu: 1 })]))).toMatchObject(
          {
            ok: true,
          },
        );
      }
      const tree = await store.readTreeHead();
      const tiles = await store.readTiles([{ level: 0, index: 0 }]);
      const vms = await store.readVmCounts();
      // What a table of the previous version holds: no tiles, no tree head on HEAD, no VM counts.
      const documents = DynamoDBDocumentClient.from(client);
      await documents.send(
        new DeleteCommand({ TableName: table.tableName, Key: { pk: 'TILE#0#000000000000' } }),
      );
      await documents.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { pk: 'HEAD' },
          UpdateExpression:
            'REMOVE tile_height, tree_size, frontier, head_timestamp, count_transactions, count_assigned, count_rejected, count_completed, count_expired',
        }),
      );
      for (const vm of ['vm-0', 'vm-1']) {
        await documents.send(
          new UpdateCommand({
            TableName: table.tableName,
            Key: { pk: `VM#${vm}` },
            UpdateExpression: 'REMOVE vmcount_assigned, vmcount_completed, vmcount_expired',
          }),
        );
      }
      const upgraded = new DynamoDbLedgerStore({ client, tableName: table.tableName });
      expect(await upgraded.readTreeHead()).toEqual(tree);
      expect(await upgraded.readTiles([{ level: 0, index: 0 }])).toEqual(tiles);
      expect(await upgraded.readVmCounts()).toEqual(vms);
      const head = await upgraded.readHead();
      expect(
        await upgraded.append(head, commitFor(head, [decision('after', null, { cpu: 1 })])),
      ).toMatchObject({ ok: true });
      expect((await upgraded.readTiles([{ level: 0, index: 0 }])).get('0/0')!.length).toBe(8 * 32);
      await table.drop();
    });

    it('throws, writing nothing, when a stored tile disagrees with the tree head', async () => {
      const { store, table } = await freshStore();
      const head = await store.readHead();
      const documents = DynamoDBDocumentClient.from(client);
      await documents.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: { pk: 'TILE#0#000000000000' },
          UpdateExpression: 'SET hashes = list_append(hashes, :extra)',
          ExpressionAttributeValues: { ':extra': [new Uint8Array(32)] },
        }),
      );
      await expect(store.append(head, commitFor(head, [decision('t', null, { cpu: 1 })]))).rejects.toThrow(
        /Merkle tiles disagree with the chain head \(TILE#0#000000000000: ConditionalCheckFailed\)/,
      );
      expect(await store.readHead()).toEqual(head);
      await table.drop();
    });

    it('names the dimension when a fresh VM cannot hold a reservation at all', async () => {
      const { store, table } = await freshStore();
      const head = await store.readHead();
      const result = await store.append(
        head,
        commitFor(head, [decision('t', 'vm-new', { cpu: 10, mem: 4096 })]),
      );
      expect(result).toMatchObject({ ok: false, conflict: 'over-capacity' });
      if (!result.ok) expect(result.detail).toMatch(/vm-new.*mem/);
      expect(await keysIn(table.tableName)).toEqual(['BLOCK#000000000000', 'HEAD', 'TILE#0#000000000000']);
      await table.drop();
    });

    it('throws on a release of more than the VM holds and writes nothing', async () => {
      const { store, table } = await freshStore();
      const head = await store.readHead();
      expect(
        await store.append(head, commitFor(head, [decision('t-1', 'vm-1', { cpu: 100 })])),
      ).toMatchObject({
        ok: true,
      });
      const after = await store.readHead();
      const before = await keysIn(table.tableName);
      const releases = [
        reserve('vm-1', { cpu: 101 }, -1), // more cpu than reserved
        reserve('vm-2', { cpu: 1 }, -1), // a VM with nothing reserved
      ];
      for (const release of releases) {
        const commit = { ...commitFor(after, [decision('t-2', null, { cpu: 1 })]), reservations: [release] };
        await expect(store.append(after, commit)).rejects.toThrow(MalformedCommitError);
      }
      expect(await store.readHead()).toEqual(after);
      expect(await keysIn(table.tableName)).toEqual(before);
      expect(await store.getReservations()).toEqual([
        { vm_id: 'vm-1', reserved: { cpu: 100 }, active_tasks: 1, capacity: CAPACITY },
      ]);
      await table.drop();
    });

    it(`refuses a commit over ${MAX_TRANSACTION_ITEMS} items before writing anything`, async () => {
      const { store, table } = await freshStore();
      const head = await store.readHead();
      const fits = commitFor(
        head,
        Array.from({ length: 30 }, (_, i) => decision(`ok-${i}`, 'vm-1', { cpu: 1 })),
      );
      // 30 transactions in blocks of 5: 6 blocks + 30 TX + 30 TASK + 1 VM + HEAD
      expect(commitItemCount(fits)).toBe(68);
      expect(planCommit(table.tableName, head, fits).items).toHaveLength(68);

      const tooMany = commitFor(
        head,
        Array.from({ length: 45 }, (_, i) => decision(`big-${i}`, 'vm-1', { cpu: 1 })),
      );
      expect(commitItemCount(tooMany)).toBe(101);
      await expect(store.append(head, tooMany)).rejects.toThrow(CommitTooLargeError);
      await expect(store.append(head, tooMany)).rejects.toThrow(/101 > 100/);
      expect(await keysIn(table.tableName)).toEqual(['BLOCK#000000000000', 'HEAD', 'TILE#0#000000000000']);
      await table.drop();
    });

    it.each([
      // blockSize: tasks -> worst-case items (3 per task + blocks + HEAD), within the 91 left after the
      // 8 kept for Merkle tiles (MERKLE_ITEMS_PER_COMMIT) and 1 for a VM directory page
      [5, 28], // 84 + 6 + 1 = 91; 29 tasks would need 87 + 6 + 1 = 94
      [1, 22], // 66 + 22 + 1 = 89; 23 tasks would need 69 + 23 + 1 = 93
      [100, 29], // 87 + 1 + 1 = 89; 30 tasks would need 90 + 1 + 1 = 92
    ])('with blocks of %d a commit holds at most %d tasks, each on its own VM', async (blockSize, tasks) => {
      expect(maxTasksPerCommit(blockSize)).toBe(tasks);
      const head = { height: 0, hash: genesisBlock().block_hash };
      const commitOf = (n: number): Commit => {
        const txs = Array.from({ length: n }, (_, i) => decision(`t-${i}`, `vm-${i}`, { cpu: 1 }));
        return {
          blocks: buildBlocks(head, txs, { maxPerBlock: blockSize, timestamp: toTimestamp(T0) }),
          reservations: txs.map((tx) => reserve(tx.vm_id!, tx.task_requirements)),
          tasks: txs.map((tx) => ({ record: record(tx, 1), expect: 'absent' as const })),
        };
      };
      expect(commitItemCount(commitOf(tasks))).toBeLessThanOrEqual(MAX_LEDGER_ITEMS);
      expect(commitItemCount(commitOf(tasks + 1))).toBeGreaterThan(MAX_LEDGER_ITEMS);
    });

    it.each([
      // blockSize, VMs: tasks -> items (TX + TASK per task, blocks, one item per VM used, HEAD) <= 91
      [10, 10, 38], // 76 + 4 + 10 + 1 = 91; 39 tasks would need 78 + 4 + 10 + 1 = 93
      [5, 10, 36], // 72 + 8 + 10 + 1 = 91; 37 tasks would need 74 + 8 + 10 + 1 = 93
      [10, 1, 42], // 84 + 5 + 1 + 1 = 91; 43 tasks would need 86 + 5 + 1 + 1 = 93
      [10, 100, 29], // as many VMs as tasks: the worst case of maxTasksPerCommit
    ])('with blocks of %d on %d VMs a commit holds at most %d tasks', (blockSize, vms, tasks) => {
      expect(maxTasksPerCommitOnFleet(blockSize, vms)).toBe(tasks);
      const head = { height: 0, hash: genesisBlock().block_hash };
      const commitOf = (n: number): Commit => {
        const txs = Array.from({ length: n }, (_, i) => decision(`t-${i}`, `vm-${i % vms}`, { cpu: 1 }));
        return {
          blocks: buildBlocks(head, txs, { maxPerBlock: blockSize, timestamp: toTimestamp(T0) }),
          reservations: txs.map((tx) => reserve(tx.vm_id!, tx.task_requirements)),
          tasks: txs.map((tx) => ({ record: record(tx, 1), expect: 'absent' as const })),
        };
      };
      expect(planCommit('t', head, commitOf(tasks)).items.length).toBeLessThanOrEqual(MAX_LEDGER_ITEMS);
      expect(planCommit('t', head, commitOf(tasks + 1)).items.length).toBeGreaterThan(MAX_LEDGER_ITEMS);
    });

    it('finds expired leases through the sparse lease index when the table has it', async () => {
      const { store, table } = await freshStore({ withLeaseIndex: true });
      const head = await store.readHead();
      const T = 1_800_000_000_000;
      const commit = commitFor(
        head,
        [
          decision('late', 'vm-1', { cpu: 1 }),
          decision('early', 'vm-1', { cpu: 1 }),
          decision('no', null, { cpu: 1 }),
        ],
        { leases: { late: T + 200, early: T + 100 } },
      );
      expect(await store.append(head, commit)).toMatchObject({ ok: true });

      // The index is eventually consistent on AWS; poll briefly rather than assume.
      let ids: string[] = [];
      for (let i = 0; i < 20 && ids.length < 2; i++) {
        ids = (await store.listExpiredLeases(T + 1000, 10)).map((r) => r.task_id);
        if (ids.length < 2) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ids).toEqual(['early', 'late']);
      expect((await store.listExpiredLeases(T + 150, 10)).map((r) => r.task_id)).toEqual(['early']);
      expect(await store.listExpiredLeases(T + 1000, 1)).toEqual([await store.getTask('early')]);
      await table.drop();
    });

    it('refuses every call after close', async () => {
      const { store, table } = await freshStore();
      await store.readHead();
      await store.close();
      await expect(store.readHead()).rejects.toThrow(/closed/);
      await expect(store.getReservations()).rejects.toThrow(/closed/);
      await table.drop();
    });

    it('fails loudly on a malformed item instead of returning it', async () => {
      const { store, table } = await freshStore();
      await store.readHead();
      const documents = DynamoDBDocumentClient.from(client);
      await documents.send(
        new PutCommand({
          TableName: table.tableName,
          Item: { pk: 'BLOCK#000000000001', height: 1, block_hash: 'x' },
        }),
      );
      await expect(store.getBlock(1)).rejects.toThrow(
        /malformed block item BLOCK#000000000001: .*block_hash/,
      );
      await table.drop();
    });
  });
}
