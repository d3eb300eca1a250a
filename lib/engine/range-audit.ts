import * as z from 'zod';
import { ValidationError } from '../errors';
import { blockLeafHash, ChainVerifier, fromHex, toHex } from '../ledger';
import type { ChainVerification } from '../ledger/chain-verifier';
import { appendLeaf, emptyRange, type MerkleRange, mergeRanges, rangeRoot } from '../ledger/merkle/range';
import { count, hash64, verificationProblemSchema } from '../ledger/schema-parts';
import { timestampSchema } from '../ledger/time';
import type { Block, ChainHead, Digest, VerificationProblem } from '../ledger/types';
import type { LedgerStore } from '../ports/ledger-store';
import { verifiableBlocks } from './verifiable-blocks';

/**
 * A full re-audit that scales out (docs/ledger-format.md section 10.3): the chain [0, head] is cut into
 * block ranges (planAuditRanges), each range is verified on its own, by any number of workers at once
 * (verifyStoreRange: every block's schema, canonical transactions, Merkle root, block hash and the links
 * inside the range, every transaction id against the store's index, closings against their decisions),
 * and returns a small summary: its first block's previous_hash, its last block's hash, its counts and
 * its compact range of the block-hash tree. mergeRangeResults then checks that adjacent ranges link up,
 * merges the compact ranges into the tree head over [0, head] and holds it to the head and the trusted
 * (signed) digest. A valid chain gets the report verifyChain gives; an invalid one is named at the
 * first bad height of the first failing range.
 */

/** Heights `from`..`to`, both included. */
export interface AuditRange {
  from: number;
  to: number;
}

export const auditRangeSchema = z
  .strictObject({ from: count, to: count })
  .refine((r) => r.from <= r.to, { path: ['to'], message: 'must not be below from' });

/** What verifying one range returns: the summary the merge needs, or where and why the range failed. */
export const rangeResultSchema = z.discriminatedUnion('valid', [
  z.strictObject({
    valid: z.literal(true),
    from: count,
    to: count,
    /** The first block's previous_hash: the hash of block from - 1. */
    first_previous_hash: hash64,
    last_hash: hash64,
    last_timestamp: timestampSchema,
    blocks: count,
    transactions: count,
    /** The compact range [from, to + 1) of the block-hash tree: subtree roots left to right, hex. */
    compact: z.array(hash64),
  }),
  z.strictObject({
    valid: z.literal(false),
    from: count,
    to: count,
    /** Blocks and transactions of the range that checked out before the failure. */
    blocks: count,
    transactions: count,
    first_bad_height: count,
    problem: verificationProblemSchema,
    detail: z.string(),
  }),
]);
export type RangeResult = z.output<typeof rangeResultSchema>;

export interface PlanOptions {
  /** Blocks per range, before the range count cap raises it. */
  blocksPerRange: number;
  /** Most ranges: a longer chain gets longer ranges. @default 1000 */
  maxRanges?: number;
  /** Heights a range must end at (the trusted digest's, so the merge can compare its tree head there). */
  cutAfter?: readonly number[];
}

/** Ranges covering 0..headHeight in order, each ending at a cut when one falls inside it. */
export function planAuditRanges(headHeight: number, options: PlanOptions): AuditRange[] {
  if (!Number.isSafeInteger(headHeight) || headHeight < 0) return [];
  if (!Number.isSafeInteger(options.blocksPerRange) || options.blocksPerRange < 1) {
    throw new RangeError(`blocksPerRange must be a positive integer, not ${options.blocksPerRange}`);
  }
  const maxRanges = Math.max(1, options.maxRanges ?? 1000);
  const size = Math.max(options.blocksPerRange, Math.ceil((headHeight + 1) / maxRanges));
  const cuts = [...new Set(options.cutAfter ?? [])]
    .filter((h) => h >= 0 && h < headHeight)
    .sort((a, b) => a - b);
  const ranges: AuditRange[] = [];
  let from = 0;
  while (from <= headHeight) {
    let to = Math.min(headHeight, from + size - 1);
    const cut = cuts.find((h) => h >= from && h < to);
    if (cut !== undefined) to = cut;
    ranges.push({ from, to });
    from = to + 1;
  }
  return ranges;
}

export interface RangeVerifyOptions {
  /** Blocks read per store call. @default 100 */
  pageSize?: number;
  /** Index lookups (findTransaction) in flight at once. @default 16 */
  lookups?: number;
}

/**
 * Verifies blocks range.from..range.to of a store, as verifyChain does a whole chain except for what
 * needs the blocks outside the range: the link into the range (left to the merge), duplicate ids across
 * ranges (each id must be indexed at the block and position that hold it, which a repeated id cannot
 * be twice), and closings whose decision lies before the range (the decision is found through the
 * index and read back: it must be an assigned decision on the closing's VM, earlier in the chain).
 */
export async function verifyStoreRange(
  store: LedgerStore,
  range: AuditRange,
  options: RangeVerifyOptions = {},
): Promise<RangeResult> {
  const pageSize = options.pageSize ?? 100;
  const lookups = options.lookups ?? 16;
  const verifier = new ChainVerifier([], 'fast', range.from === 0 ? 'genesis' : 'range');
  let compact: MerkleRange = emptyRange(range.from);
  let blocks = 0;
  let transactions = 0;
  let first: Block | null = null;
  let last: Block | null = null;
  const fail = (height: number, problem: VerificationProblem, detail: string): RangeResult => ({
    valid: false,
    from: range.from,
    to: range.to,
    blocks,
    transactions,
    first_bad_height: height,
    problem,
    detail,
  });

  let page: Block[] = [];
  // Closings whose decision lies before the range: ChainVerifier lists them in chain order; the height
  // of each is the block of its first not yet matched closing (close-phase transactions, in order).
  let openChecked = 0;
  const closingHeights: number[] = [];
  const decisionBlocks = new Map<number, Block | null>();
  const checkPage = async (): Promise<RangeResult | null> => {
    const misplaced = await firstMisindexed(store, page, lookups);
    const open = verifier.openClosings.slice(openChecked);
    const unmatched = await firstUnmatchedClosing(
      store,
      open.map(([id, vm], i) => [id, vm, closingHeights[openChecked + i]!] as const),
      range.from,
      decisionBlocks,
    );
    openChecked = verifier.openClosings.length;
    const bad = [
      misplaced && { ...misplaced, problem: 'duplicate-transaction' as const },
      unmatched && { ...unmatched, problem: 'unmatched-closing' as const },
    ]
      .filter((x) => x !== null)
      .sort((a, b) => a.height - b.height)[0];
    if (bad) {
      // Blocks before the bad one still count as checked.
      for (const block of page)
        if (block.height < bad.height) {
          blocks += 1;
          transactions += block.transaction_count;
        }
      return fail(bad.height, bad.problem, bad.detail);
    }
    for (const block of page) {
      compact = appendLeaf(compact, blockLeafHash(block.block_hash));
      blocks += 1;
      transactions += block.transaction_count;
    }
    page = [];
    return null;
  };

  try {
    for await (const block of verifiableBlocks(store, range.to, pageSize, range.from)) {
      const expected = range.from + blocks + page.length;
      if (block.height !== expected) {
        return fail(expected, 'height-gap', `the store has no block at height ${expected}`);
      }
      const opened = verifier.openClosings.length;
      const failure = verifier.check(block);
      for (let i = opened; i < verifier.openClosings.length; i++) closingHeights.push(block.height);
      if (failure) {
        // The blocks before it in this page must still be indexed where they are.
        page = page.filter((b) => b.height < failure.height);
        const before = await checkPage();
        return before ?? fail(failure.height, failure.problem, failure.detail);
      }
      first ??= block;
      last = block;
      page.push(block);
      if (page.length >= pageSize) {
        const failed = await checkPage();
        if (failed) return failed;
      }
    }
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const failed = await checkPage();
    return failed ?? fail(range.from + blocks, 'malformed', error.message);
  }
  const failed = await checkPage();
  if (failed) return failed;
  if (last === null || first === null || last.height !== range.to) {
    const missing = range.from + blocks;
    return fail(missing, 'height-gap', `the store has no block at height ${missing}`);
  }
  return {
    valid: true,
    from: range.from,
    to: range.to,
    first_previous_hash: first.previous_hash,
    last_hash: last.block_hash,
    last_timestamp: last.timestamp,
    blocks,
    transactions,
    compact: compact.hashes.map(toHex),
  };
}

/** The first transaction of `page` the store's index does not place at its own block and position. */
async function firstMisindexed(
  store: LedgerStore,
  page: readonly Block[],
  concurrency: number,
): Promise<{ height: number; detail: string } | null> {
  const entries = page.flatMap((block) =>
    block.transactions.map((tx, index) => ({ id: tx.transaction_id, height: block.height, index })),
  );
  // One batched read per page where the store has it (DynamoDB: BatchGetItem of 100 TX# items).
  const found = store.findTransactions
    ? await store.findTransactions(entries.map((e) => e.id))
    : await mapLimited(entries, concurrency, (e) => store.findTransaction(e.id));
  for (const [i, e] of entries.entries()) {
    const at = found[i];
    if (!at || at.height !== e.height || at.index !== e.index) {
      return {
        height: e.height,
        detail: `transaction ${e.id} is indexed at ${at ? `${at.height}/${at.index}` : 'nowhere'}, not ${e.height}/${e.index}`,
      };
    }
  }
  return null;
}

/**
 * The first of `closings` (in chain order: [decision id, vm_id, height of the closing]) whose decision
 * is not an assigned decision on the same VM before `from`: the decision's id is looked up in the index
 * and its block read (each block once).
 */
async function firstUnmatchedClosing(
  store: LedgerStore,
  closings: readonly (readonly [string, string, number])[],
  from: number,
  blocks: Map<number, Block | null>,
): Promise<{ height: number; detail: string } | null> {
  for (const [decisionId, vm, height] of closings) {
    const at = await store.findTransaction(decisionId);
    let decision = null;
    if (at && at.height < from) {
      if (!blocks.has(at.height)) blocks.set(at.height, await store.getBlock(at.height));
      decision = blocks.get(at.height)?.transactions[at.index] ?? null;
    }
    if (
      !decision ||
      decision.transaction_id !== decisionId ||
      decision.status !== 'assigned' ||
      decision.vm_id !== vm
    ) {
      const found = decision
        ? `${decision.status} on ${decision.vm_id}`
        : at
          ? `indexed at ${at.height}/${at.index}`
          : 'absent';
      return {
        height,
        detail: `block ${height}: a closing on ${vm} follows no assigned decision ${decisionId} on that VM before it (${found})`,
      };
    }
  }
  return null;
}

async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface MergeOptions {
  /** The head the audit was planned to: the merged ranges must end exactly there. */
  expectedHead: ChainHead;
  /** The latest signed digest: the merged tree at its size must be its tree. */
  trusted?: Digest | null;
}

/**
 * Joins the results of the ranges planned for one audit, in chain order, into verifyChain's report: the
 * first range starts at genesis, each next one starts at the height after the one before and its first
 * previous_hash is that range's last hash; the compact ranges merge into the block-hash tree's head; at
 * the trusted digest's height the tree head, head hash and transaction count must be the digest's; the
 * last range ends at the expected head. A failing range is reported as its own first bad height, after
 * the checks of the ranges before it.
 */
export function mergeRangeResults(results: readonly RangeResult[], options: MergeOptions): ChainVerification {
  const { expectedHead, trusted } = options;
  let tree: MerkleRange = emptyRange(0);
  let blocks = 0;
  let transactions = 0;
  let previous: Extract<RangeResult, { valid: true }> | null = null;
  const report = (height: number, problem: VerificationProblem, detail: string): ChainVerification => ({
    valid: false,
    height: previous ? previous.to : -1,
    head_hash: previous ? previous.last_hash : null,
    blocks_checked: blocks,
    transactions_checked: transactions,
    first_bad_height: height,
    problem,
    detail,
  });

  for (const result of results) {
    const due = previous === null ? 0 : previous.to + 1;
    if (result.from !== due) {
      return report(
        due,
        'height-gap',
        `the range after height ${due - 1} starts at ${result.from}, not ${due}`,
      );
    }
    if (!result.valid) {
      return {
        ...report(result.first_bad_height, result.problem, result.detail),
        blocks_checked: blocks + result.blocks,
        transactions_checked: transactions + result.transactions,
      };
    }
    if (previous !== null && result.first_previous_hash !== previous.last_hash) {
      return report(
        result.from,
        'broken-link',
        `previous_hash ${result.first_previous_hash} is not block ${previous.to}'s hash ${previous.last_hash}`,
      );
    }
    if (result.blocks !== result.to - result.from + 1) {
      return report(
        result.from,
        'height-gap',
        `range ${result.from}..${result.to} holds ${result.blocks} blocks`,
      );
    }
    try {
      tree = mergeRanges(tree, {
        begin: result.from,
        end: result.to + 1,
        hashes: result.compact.map(fromHex),
      });
    } catch (error) {
      return report(
        result.from,
        'malformed',
        `range ${result.from}..${result.to}: ${(error as Error).message}`,
      );
    }
    blocks += result.blocks;
    transactions += result.transactions;
    previous = result;
    if (trusted && trusted.height >= result.from && trusted.height <= result.to) {
      if (trusted.height !== result.to) {
        throw new RangeError(`the plan must cut at the trusted digest's height ${trusted.height}`);
      }
      if (result.last_hash !== trusted.head_hash) {
        return report(
          trusted.height,
          'digest-mismatch',
          `block ${trusted.height} is ${result.last_hash}, the trusted digest has ${trusted.head_hash}`,
        );
      }
      const root = toHex(rangeRoot(tree));
      if (root !== trusted.blocks_root || transactions !== trusted.transaction_count) {
        return report(
          trusted.height,
          'inconsistent-with-digest',
          `blocks_root ${root} with ${transactions} transactions, the trusted digest has ${trusted.blocks_root} with ${trusted.transaction_count}`,
        );
      }
    }
  }
  if (previous === null) return report(0, 'bad-genesis', 'the chain is empty: no genesis block');
  if (trusted && trusted.height > previous.to) {
    return report(
      previous.to + 1,
      'digest-mismatch',
      `chain ends at height ${previous.to}, before the trusted digest's height ${trusted.height}`,
    );
  }
  if (expectedHead.height !== previous.to || expectedHead.hash !== previous.last_hash) {
    return report(
      Math.min(expectedHead.height, previous.to + 1),
      'head-mismatch',
      `chain ends at ${previous.to}/${previous.last_hash}, expected ${expectedHead.height}/${expectedHead.hash}`,
    );
  }
  const blocksRoot = toHex(rangeRoot(tree));
  return {
    valid: true,
    height: previous.to,
    head_hash: previous.last_hash,
    blocks_checked: blocks,
    transactions_checked: transactions,
    first_bad_height: null,
    problem: null,
    detail: null,
    digest: {
      height: previous.to,
      head_hash: previous.last_hash,
      tree_size: previous.to + 1,
      blocks_root: blocksRoot,
      transaction_count: transactions,
      timestamp: previous.last_timestamp,
    },
  };
}

/** The block-hash tree's frontier (hex, largest subtree first) over the valid ranges, merged in order. */
export function mergedFrontier(results: readonly RangeResult[]): string[] {
  let tree: MerkleRange = emptyRange(0);
  for (const result of results) {
    if (!result.valid) throw new RangeError(`range ${result.from}..${result.to} is not valid`);
    tree = mergeRanges(tree, { begin: result.from, end: result.to + 1, hashes: result.compact.map(fromHex) });
  }
  return tree.hashes.map(toHex);
}
