import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import {
  blockHash,
  buildBlocks,
  CanonicalizationError,
  canonicalBytes,
  GENESIS,
  GENESIS_HASH,
  genesisBlock,
  leafHash,
  merkleRoot,
  sha256,
  sha256Hex,
  toHex,
  toTimestamp,
  transactionId,
  transactionSchema,
  transactionsRoot,
} from '../../../lib/ledger';
import type { Transaction } from '../../../lib/ledger/types';
import { sampleTransactions, T0 } from './helpers/transactions';

const AT = toTimestamp(T0);
const genesisHead = { height: 0, hash: GENESIS_HASH };

describe('transactionId', () => {
  it('is the first 32 hex digits of SHA-256 over the tagged phase and task id', () => {
    const bytes = new TextEncoder().encode('bcs/transaction-id/v1\u0000decision\u0000task-7');
    expect(transactionId('task-7', 'decision')).toBe(toHex(sha256(bytes)).slice(0, 32));
  });

  it('gives one id per task and phase', () => {
    expect(transactionId('t', 'decision')).toBe(transactionId('t', 'decision'));
    expect(transactionId('t', 'decision')).not.toBe(transactionId('t', 'close'));
    expect(transactionId('t', 'decision')).not.toBe(transactionId('u', 'decision'));
    expect(transactionId('t', 'decision')).toMatch(/^[0-9a-f]{32}$/);
  });

  it('refuses an unknown phase', () => {
    expect(() => transactionId('t', 'other' as 'close')).toThrow(TypeError);
  });
});

describe('toTimestamp', () => {
  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [Date.UTC(2026, 10, 21, 5, 28, 25, 123), '2026-11-21T05:28:25.123Z'],
    [1.9, '1970-01-01T00:00:00.001Z'],
  ])('%s ms is %s', (ms, text) => {
    expect(toTimestamp(ms)).toBe(text);
  });

  it('refuses non-finite and out-of-range times', () => {
    expect(() => toTimestamp(Number.NaN)).toThrow(RangeError);
    expect(() => toTimestamp(8.64e15)).toThrow(RangeError);
  });
});

describe('transactionSchema', () => {
  const [tx] = sampleTransactions(1, 1);

  it('accepts a well-formed transaction', () => {
    expect(transactionSchema.parse(tx)).toEqual(tx);
  });

  it.each([
    ['transaction_id', { transaction_id: 'ABC' }],
    ['timestamp', { timestamp: '2026-11-21T05:28:25Z' }],
    ['timestamp', { timestamp: '2026-02-30T00:00:00.000Z' }],
    ['task_id', { task_id: '' }],
    ['status', { status: 'running' }],
    ['score', { score: Number.POSITIVE_INFINITY }],
    ['score', { score: Number.NaN }],
    ['reason', { reason: 'bad \uD800 text' }],
    ['task_requirements.cpu', { task_requirements: { cpu: Number.NaN } }],
    ['vm_state_after.active_tasks', { vm_state_after: { reserved: {}, usage: {}, active_tasks: 1.5 } }],
    ['extra', { extra: 1 }],
  ])('names %s when it is invalid', (field, patch) => {
    const result = transactionSchema.safeParse({ ...tx, ...patch });
    expect(result.success).toBe(false);
    const fields = result.error!.issues.map((i) => i.path.join('.'));
    expect(fields.some((f) => f === field || (field === 'extra' && f === ''))).toBe(true);
  });

  it('requires every field (undefined is not null)', () => {
    const { vm_id: _dropped, ...missing } = tx!;
    expect(transactionSchema.safeParse(missing).success).toBe(false);
  });
});

describe('genesis', () => {
  it('is height 0 at the epoch, linked to zeros, empty, with the empty-tree root', () => {
    const g = genesisBlock();
    expect(g).toEqual({
      height: 0,
      timestamp: '1970-01-01T00:00:00.000Z',
      previous_hash: '0'.repeat(64),
      merkle_root: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      transaction_count: 0,
      block_hash: GENESIS_HASH,
      transactions: [],
    });
  });

  it('has the hash of its canonical header bytes', () => {
    const header =
      '{"height":0,"merkle_root":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",' +
      '"previous_hash":"0000000000000000000000000000000000000000000000000000000000000000",' +
      '"timestamp":"1970-01-01T00:00:00.000Z","transaction_count":0}';
    expect(GENESIS_HASH).toBe(sha256Hex(new TextEncoder().encode(header)));
  });

  it('hands out copies: mutating one does not touch GENESIS', () => {
    const g = genesisBlock();
    g.transactions.push({} as Transaction);
    expect(GENESIS.transactions).toEqual([]);
    expect(Object.isFrozen(GENESIS) && Object.isFrozen(GENESIS.transactions)).toBe(true);
    expect(genesisBlock().transactions).toEqual([]);
  });
});

describe('blockHash and transactionsRoot', () => {
  const txs = sampleTransactions(7, 20);

  it('blockHash covers exactly the five header fields', () => {
    const [block] = buildBlocks(genesisHead, txs, { maxPerBlock: 10, timestamp: AT });
    const { height, timestamp, previous_hash, merkle_root, transaction_count } = block!;
    const expected = sha256Hex(
      canonicalBytes({ height, timestamp, previous_hash, merkle_root, transaction_count }),
    );
    expect(blockHash(block!)).toBe(expected);
    expect(block!.block_hash).toBe(expected);
  });

  it('transactionsRoot is the MTH over the canonical bytes of each transaction', () => {
    expect(transactionsRoot(txs)).toBe(toHex(merkleRoot(txs.map((t) => canonicalBytes(t)))));
    expect(transactionsRoot([])).toBe(toHex(sha256()));
    expect(transactionsRoot(txs.slice(0, 1))).toBe(toHex(leafHash(canonicalBytes(txs[0]))));
  });

  it('refuse values with no canonical form instead of hashing something else', () => {
    const undefinedScore = { ...txs[0]!, score: undefined } as unknown as Transaction;
    expect(() => transactionsRoot([undefinedScore])).toThrow(CanonicalizationError);
    expect(() => transactionsRoot([{ ...txs[0]!, score: Number.NaN }])).toThrow(/score/);
    const [block] = buildBlocks(genesisHead, txs, { timestamp: AT });
    expect(() => blockHash({ ...block!, height: Number.POSITIVE_INFINITY })).toThrow(CanonicalizationError);
  });

  it('depends on transaction order', () => {
    expect(transactionsRoot([txs[1]!, txs[0]!])).not.toBe(transactionsRoot([txs[0]!, txs[1]!]));
  });
});

describe('buildBlocks', () => {
  const txs = sampleTransactions(12, 40);

  it('fills consecutive linked blocks of at most maxPerBlock transactions, in order', () => {
    const blocks = buildBlocks(genesisHead, txs, { maxPerBlock: 5, timestamp: AT });
    expect(blocks.map((b) => [b.height, b.transaction_count])).toEqual([
      [1, 5],
      [2, 5],
      [3, 2],
    ]);
    expect(blocks.flatMap((b) => b.transactions)).toEqual(txs);
    expect(blocks[0]!.previous_hash).toBe(GENESIS_HASH);
    expect(blocks[1]!.previous_hash).toBe(blocks[0]!.block_hash);
    expect(blocks[2]!.previous_hash).toBe(blocks[1]!.block_hash);
    for (const b of blocks) {
      expect(b.timestamp).toBe(AT);
      expect(b.merkle_root).toBe(transactionsRoot(b.transactions));
      expect(b.block_hash).toBe(blockHash(b));
    }
  });

  it('defaults to five per block and extends any head', () => {
    const blocks = buildBlocks({ height: 41, hash: 'a'.repeat(64) }, txs.slice(0, 6), { timestamp: AT });
    expect(blocks.map((b) => [b.height, b.transaction_count, b.previous_hash.slice(0, 4)])).toEqual([
      [42, 5, 'aaaa'],
      [43, 1, blocks[0]!.block_hash.slice(0, 4)],
    ]);
  });

  it('gives no block for no transaction', () => {
    expect(buildBlocks(genesisHead, [], { timestamp: AT })).toEqual([]);
  });

  it.each([
    ['timestamp', { timestamp: 'yesterday' }],
    ['maxPerBlock', { timestamp: AT, maxPerBlock: 0 }],
    ['maxPerBlock', { timestamp: AT, maxPerBlock: 2.5 }],
  ])('names the bad option %s', (field, opts) => {
    expect(() => buildBlocks(genesisHead, txs, opts)).toThrow(new RegExp(field));
  });

  it('names the bad transaction field and builds nothing', () => {
    const bad = txs.map((t, i) => (i === 3 ? { ...t, score: Number.NaN } : t));
    expect(() => buildBlocks(genesisHead, bad, { timestamp: AT })).toThrow(ValidationError);
    expect(() => buildBlocks(genesisHead, bad, { timestamp: AT })).toThrow(/3\.score/);
  });

  it('refuses the same transaction id twice in a batch', () => {
    expect(() => buildBlocks(genesisHead, [txs[0]!, txs[1]!, txs[0]!], { timestamp: AT })).toThrow(
      /2\.transaction_id: duplicates transaction 0/,
    );
  });

  it('refuses a malformed previous head', () => {
    expect(() => buildBlocks({ height: -1, hash: 'x' }, txs, { timestamp: AT })).toThrow(/height.*hash|hash/);
  });
});
