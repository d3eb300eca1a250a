import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyHandler } from '../../functions/handlers/verify';
import { DynamoDbLedgerStore } from '../../lib/adapters/dynamodb';
import { blockToItem } from '../../lib/adapters/dynamodb/items';
import { blockKey, HEAD_KEY, PARTITION_KEY } from '../../lib/adapters/dynamodb/keys';
import type { VerificationReport } from '../../lib/ledger/types';
import { scheduledEvent } from '../unit/functions/helpers/events';
import { RecordingLogger, RecordingMetrics } from '../unit/functions/helpers/fixtures';
import {
  fieldMutation,
  fieldMutationArgs,
  LAST_HEIGHT,
  TAMPER_CHAIN,
  TAMPER_HEAD,
} from '../unit/ledger/helpers/tamper';
import { dynamoDbClient } from './helpers/clients';
import { createLedgerTable } from './helpers/ledger-table';

/**
 * Tamper evidence in DynamoDB: the 50-block corpus chain (tests/unit/ledger/helpers/tamper.ts) is
 * written to a table as the store lays it out, then items are changed one mutation at a time, with
 * fixed seeds: a field of a block or of one of its transactions, one character of a block's stored
 * transactions text, or whole items deleted, duplicated, swapped, truncated, and the head moved. After
 * each, the verify function's handler runs in-process against the table and must report the chain
 * invalid and name the block touched; then the items are restored and the next mutation applied.
 *
 * BCS_TAMPER_MUTATIONS (default 300) sets the total; docs/reliability.md has the measured times.
 */

// 300 keeps CI near 30 s on MiniStack; scripts/tamper-dynamodb.sh runs the full 1,000 (docs/reliability.md).
const TOTAL = Number(process.env.BCS_TAMPER_MUTATIONS ?? 300);
const FIELDS = Math.round(TOTAL * 0.4);
const BYTES = Math.round(TOTAL * 0.3);
const STRUCTURES = TOTAL - FIELDS - BYTES;

type Item = Record<string, unknown>;
/** What a mutation writes: an item under a key, or null to delete the key. */
type Edit = { key: string; item: Item | null };
type Mutation = { label: string; edits: Edit[]; firstBad: number };

const client = dynamoDbClient();
const documents = DynamoDBDocumentClient.from(client);
let tableName: string;
let drop: () => Promise<void>;
let store: DynamoDbLedgerStore;
const original = new Map<string, Item>();

const itemAt = (height: number): Item => original.get(blockKey(height))!;
const relabelled = (height: number, at: number): Item => ({
  ...blockToItem({ ...TAMPER_CHAIN[height]!, height: at }),
});

/** Applies edits in batches of 25 (BatchWriteItem's limit); keys within one mutation are distinct. */
async function write(edits: Edit[]): Promise<void> {
  for (let i = 0; i < edits.length; i += 25) {
    const requests = edits
      .slice(i, i + 25)
      .map(({ key, item }) =>
        item === null
          ? { DeleteRequest: { Key: { [PARTITION_KEY]: key } } }
          : { PutRequest: { Item: { ...item, [PARTITION_KEY]: key } } },
      );
    let pending: Record<string, typeof requests> | undefined = { [tableName]: requests };
    while (pending && Object.keys(pending).length > 0) {
      const out = await documents.send(new BatchWriteCommand({ RequestItems: pending }));
      pending = out.UnprocessedItems as typeof pending;
    }
  }
}

const restore = (edits: Edit[]) => write(edits.map(({ key }) => ({ key, item: original.get(key)! })));

async function verify(): Promise<VerificationReport> {
  const handler = verifyHandler({
    store: () => store,
    started: async () => true,
    logger: new RecordingLogger(),
    metrics: new RecordingMetrics(),
  });
  return (await handler(scheduledEvent())) as VerificationReport;
}

function fieldMutations(): Mutation[] {
  return fc
    .sample(fc.tuple(...fieldMutationArgs), { numRuns: FIELDS, seed: 11 })
    .map(([height, pick, salt]) => {
      const { blocks, label } = fieldMutation(height, pick, salt);
      const key = blockKey(height);
      return {
        label: `field ${label}`,
        edits: [{ key, item: blockToItem(blocks[height]!) }],
        firstBad: height,
      };
    });
}

/** One character of the stored transactions text changed (the item stays a valid DynamoDB string). */
function byteMutations(): Mutation[] {
  return fc
    .sample(fc.tuple(fc.nat(LAST_HEIGHT), fc.nat(), fc.integer({ min: 1, max: 31 })), {
      numRuns: BYTES,
      seed: 12,
    })
    .map(([height, at, xor]) => {
      const text = itemAt(height).transactions as string;
      const i = at % text.length;
      const changed = text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ xor) + text.slice(i + 1);
      return {
        label: `byte ${height}:${i}^${xor}`,
        edits: [{ key: blockKey(height), item: { ...itemAt(height), transactions: changed } }],
        firstBad: height,
      };
    });
}

const structureOperation: fc.Arbitrary<StructureOperation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.integer({ min: 1, max: LAST_HEIGHT }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(LAST_HEIGHT - 1) }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(LAST_HEIGHT - 1) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat(LAST_HEIGHT - 1) }),
  fc.record({ op: fc.constant('head' as const), at: fc.nat() }),
);

type StructureOperation = { op: 'delete' | 'duplicate' | 'swap' | 'truncate' | 'head'; at: number };

function structureMutation(operation: StructureOperation): Mutation {
  const { op, at } = operation;
  const label = `${op} ${at}`;
  switch (op) {
    case 'delete':
      return { label, edits: [{ key: blockKey(at), item: null }], firstBad: at };
    case 'duplicate':
      // Block `at` stored again under the next key: the chain holds it twice.
      return { label, edits: [{ key: blockKey(at + 1), item: itemAt(at) }], firstBad: at + 1 };
    case 'swap':
      // Two neighbours exchanged, each relabelled with the other's height so the order really changes.
      return {
        label,
        edits: [
          { key: blockKey(at), item: relabelled(at + 1, at) },
          { key: blockKey(at + 1), item: relabelled(at, at + 1) },
        ],
        firstBad: at,
      };
    case 'truncate': {
      const edits: Edit[] = [];
      for (let h = at + 1; h <= LAST_HEIGHT; h++) edits.push({ key: blockKey(h), item: null });
      return { label, edits, firstBad: at + 1 };
    }
    case 'head': {
      const hash = TAMPER_HEAD.hash;
      const i = at % 64;
      const flipped = hash.slice(0, i) + (hash[i] === '0' ? '1' : '0') + hash.slice(i + 1);
      return {
        label,
        edits: [{ key: HEAD_KEY, item: { height: LAST_HEIGHT, hash: flipped } }],
        firstBad: LAST_HEIGHT,
      };
    }
  }
}

function structureMutations(): Mutation[] {
  return fc.sample(structureOperation, { numRuns: STRUCTURES, seed: 13 }).map(structureMutation);
}

beforeAll(async () => {
  ({ tableName, drop } = await createLedgerTable(client));
  for (const block of TAMPER_CHAIN) original.set(blockKey(block.height), blockToItem(block));
  original.set(HEAD_KEY, { height: TAMPER_HEAD.height, hash: TAMPER_HEAD.hash });
  await write([...original].map(([key, item]) => ({ key, item })));
  store = new DynamoDbLedgerStore({ client, tableName, genesis: TAMPER_CHAIN[0]! });
}, 120_000);

afterAll(async () => {
  await store?.close();
  await drop?.();
  client.destroy();
});

describe(`tamper evidence in DynamoDB: ${TOTAL} seeded mutations of stored items`, () => {
  it('the chain as written verifies', async () => {
    expect(await verify()).toMatchObject({
      valid: true,
      height: LAST_HEIGHT,
      blocks_checked: LAST_HEIGHT + 1,
    });
  });

  it.each([
    ['field of a block or transaction', fieldMutations],
    ['character of the stored transactions text', byteMutations],
    ['deleted, duplicated, swapped, truncated blocks and a moved head', structureMutations],
  ])(
    'every changed %s is reported at that block',
    async (_family, mutations) => {
      const started = performance.now();
      const misses: string[] = [];
      let equivalent = 0;
      const list = mutations();
      for (const { label, edits, firstBad } of list) {
        await write(edits);
        const report = await verify();
        await restore(edits);
        if (report.valid && label.startsWith('byte')) {
          // A character change JSON cannot see (none is expected: JSON.stringify escapes nothing optional).
          equivalent++;
          continue;
        }
        if (report.valid || report.first_bad_height !== firstBad) {
          misses.push(
            `${label}: valid=${report.valid} first_bad=${report.first_bad_height} ${report.problem}`,
          );
        }
      }
      console.info(
        `${list.length} mutations (${equivalent} invisible to JSON) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(misses).toEqual([]);
      expect(equivalent).toBe(0);
      expect(await verify()).toMatchObject({ valid: true });
    },
    600_000,
  );
});
