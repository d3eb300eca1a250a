import { hash as oneShotHash } from 'node:crypto';
import * as z from 'zod';
import { parseOrThrow, ValidationError } from '../errors';
import { canonicalBytes } from './canonical';
import { merkleRootOfValidated } from './canonical-transaction';
import { sha256Hex, toHex } from './hash';
import { emptyRoot } from './merkle/hasher';
import { count, hash64 } from './schema-parts';
import { timestampSchema } from './time';
import { transactionSchema } from './transactions';
import type { Block, BlockHeader, ChainHead, Transaction } from './types';

/** Transactions per block unless the caller says otherwise (the original system's block size). */
export const DEFAULT_MAX_PER_BLOCK = 5;

export const blockHeaderSchema = z.strictObject({
  height: count,
  timestamp: timestampSchema,
  previous_hash: hash64,
  merkle_root: hash64,
  transaction_count: count,
}) satisfies z.ZodType<BlockHeader>;

/** A block as stored and exported. Structure only: whether the hashes are right is verifyChain's job. */
export const blockSchema = blockHeaderSchema.extend({
  block_hash: hash64,
  transactions: z.array(transactionSchema),
}) satisfies z.ZodType<Block>;

export const chainHeadSchema = z.strictObject({ height: count, hash: hash64 }) satisfies z.ZodType<ChainHead>;

/**
 * The block hash: hex SHA-256 of the RFC 8785 canonical bytes of the five header fields
 * {height, timestamp, previous_hash, merkle_root, transaction_count}. Extra fields of `header`
 * (block_hash, transactions when given a Block) are not part of it.
 */
export function blockHash(header: BlockHeader): string {
  const { height, timestamp, previous_hash, merkle_root, transaction_count } = header;
  return sha256Hex(canonicalBytes({ height, timestamp, previous_hash, merkle_root, transaction_count }));
}

/**
 * blockHash of a header blockHeaderSchema has already accepted (integers, hex and timestamp strings):
 * written in RFC 8785 key order, JSON.stringify is the canonical text, so the canonicalize pass that
 * blockHash pays for arbitrary input is skipped. Internal to the ledger's verifier.
 */
export function blockHashOfValidated(header: BlockHeader): string {
  const { height, merkle_root, previous_hash, timestamp, transaction_count } = header;
  const text = JSON.stringify({ height, merkle_root, previous_hash, timestamp, transaction_count });
  return oneShotHash('sha256', text, 'hex');
}

const GENESIS_HEADER: BlockHeader = Object.freeze({
  height: 0,
  timestamp: '1970-01-01T00:00:00.000Z',
  previous_hash: '0'.repeat(64),
  merkle_root: toHex(emptyRoot()),
  transaction_count: 0,
});

/** The hash of the genesis block, the same in every deployment (docs/ledger-format.md shows its value). */
export const GENESIS_HASH = blockHash(GENESIS_HEADER);

/** The fixed first block: height 0, epoch timestamp, previous_hash all zeros, no transactions, MTH({}). */
export function genesisBlock(): Block {
  return { ...GENESIS_HEADER, block_hash: GENESIS_HASH, transactions: [] };
}

/** A frozen genesis block, for comparisons; use genesisBlock() for a copy you may hand to a store. */
export const GENESIS: Readonly<Block> = Object.freeze({
  ...genesisBlock(),
  transactions: Object.freeze([]) as unknown as Transaction[],
});

const buildOptionsSchema = z.strictObject({
  maxPerBlock: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_PER_BLOCK),
  timestamp: timestampSchema,
});

export interface BuildBlocksOptions {
  /** Transactions per block, 1..10 000. Default 5. */
  maxPerBlock?: number;
  /** Every new block's timestamp (RFC 3339 UTC with ms, see toTimestamp). */
  timestamp: string;
}

/**
 * Blocks that extend `previous` with `transactions`, in order, at most `maxPerBlock` per block: a larger
 * batch fills consecutive blocks (previous.height + 1, + 2, ...), each linked to the one before. An empty
 * batch gives no block. Throws ValidationError naming the field when any input is invalid, including a
 * transaction_id that appears twice in the batch.
 */
export function buildBlocks(
  previous: ChainHead,
  transactions: Transaction[],
  opts: BuildBlocksOptions,
): Block[] {
  const head = parseOrThrow(chainHeadSchema, previous, 'previous head');
  const { maxPerBlock, timestamp } = parseOrThrow(buildOptionsSchema, opts, 'block options');
  const txs = parseOrThrow(z.array(transactionSchema), transactions, 'transactions');
  const seen = new Map<string, number>();
  txs.forEach((tx, i) => {
    const first = seen.get(tx.transaction_id);
    if (first !== undefined) {
      throw new ValidationError(
        [{ field: `${i}.transaction_id`, message: `duplicates transaction ${first} (${tx.transaction_id})` }],
        'transactions',
      );
    }
    seen.set(tx.transaction_id, i);
  });

  const blocks: Block[] = [];
  let height = head.height;
  let previousHash = head.hash;
  for (let start = 0; start < txs.length; start += maxPerBlock) {
    const chunk = txs.slice(start, start + maxPerBlock);
    height += 1;
    const header: BlockHeader = {
      height,
      timestamp,
      previous_hash: previousHash,
      merkle_root: merkleRootOfValidated(chunk),
      transaction_count: chunk.length,
    };
    const hash = blockHash(header);
    blocks.push({ ...header, block_hash: hash, transactions: chunk });
    previousHash = hash;
  }
  return blocks;
}
