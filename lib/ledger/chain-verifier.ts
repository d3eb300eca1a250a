import * as z from 'zod';
import { ValidationError } from '../errors';
import { blockHash, blockHashOfValidated, blockHeaderSchema, blockSchema, GENESIS } from './blocks';
import { canonicalString } from './canonical';
import { isCanonicalOrderTransaction, leafHashOfText, merkleRootOfValidated } from './canonical-transaction';
import { DigestBuilder } from './digest';
import { toHex } from './hash';
import { CompactRange } from './merkle/compact-range';
import { relationIssue } from './relations';
import { hash64 } from './schema-parts';
import { PHASE_OF_STATUS, transactionId, transactionsRootOfValidated } from './transactions';
import type { Block, ChainHead, Digest, Transaction, VerificationProblem, VerificationReport } from './types';

/** A successful report also carries the chain's digest, stamped with the head block's timestamp. */
export type ChainVerification = VerificationReport & { digest?: Digest };

/** Why a chain is invalid, and where. */
export class ChainFailure {
  constructor(
    readonly height: number,
    readonly problem: VerificationProblem,
    readonly detail: string,
  ) {}
}

const GENESIS_CANONICAL = canonicalString(GENESIS);

/**
 * How a block's transactions are validated and canonicalised. 'fast': transactions already in RFC 8785
 * key order that pass a strict hand check skip zod and are serialised by JSON.stringify (see
 * canonical-transaction.ts for why that is exact); anything else is validated by zod and written out by
 * canonicalTextOfValidated. 'reference':
 * zod on every block and the `canonicalize` package on every transaction, the oracle the tests hold the
 * fast mode to. Both give the same report for every input.
 */
export type VerifierMode = 'fast' | 'reference';

/**
 * Where the blocks fed to `check` start. 'genesis': at height 0, the whole chain. 'range': at whatever
 * height the first block has, for one slice of a chain verified in parallel (parallel-verify.ts): the
 * first block's previous_hash is left for the caller to link to the slice before, no digest is built
 * (its tree needs every block from genesis), and block hashes are kept for the caller instead.
 */
export type VerifierStart = 'genesis' | 'range';

// blockSchema with the transactions left for the per-transaction check.
const envelopeSchema = blockHeaderSchema.extend({ block_hash: hash64, transactions: z.array(z.unknown()) });

/** True when the block passes blockSchema and each transaction can be serialised with JSON.stringify. */
function isCanonicalOrderBlock(raw: unknown): raw is Block {
  if (!envelopeSchema.safeParse(raw).success) return false;
  for (const tx of (raw as { transactions: unknown[] }).transactions) {
    if (!isCanonicalOrderTransaction(tx)) return false;
  }
  return true;
}

/** merkle_root of transactions isCanonicalOrderTransaction accepted: JSON.stringify is their RFC 8785 text. */
function rootOfCanonicalOrder(transactions: readonly Transaction[]): string {
  const range = new CompactRange();
  for (const tx of transactions) range.append(leafHashOfText(JSON.stringify(tx)));
  return toHex(range.root());
}

/** merkle_root of transactions transactionSchema accepted, in any key order. */
/**
 * The state of a one-pass chain check (docs/ledger-format.md section 5): feed blocks in order with
 * `check`, stop at the first failure, then call `finish`. Memory: the block-hash tree's compact range
 * (O(log n)), the last block, and the set of transaction ids seen (duplicate detection needs it; about
 * 100 bytes per transaction). Each transaction is canonicalised and hashed exactly once.
 */
export class ChainVerifier {
  readonly #digest = new DigestBuilder();
  readonly #seen = new Set<string>();
  // Decision id -> vm_id of every assigned decision checked: a closing must follow one on the same VM.
  readonly #assigned = new Map<string, string>();
  // In 'range' mode, closings whose decision is not in this slice: [decision id, vm_id], for the join.
  readonly #openClosings: [string, string][] = [];
  #head: Block | null = null;
  #hashAt = new Map<number, string>();
  #blocks = 0;
  #transactions = 0;
  #base = 0;
  #first: Block | null = null;
  readonly #hashes: string[] = [];
  readonly #counts: number[] = [];

  /**
   * @param watchHeights heights whose block hash `hashAt` must remember (e.g. an expected head's).
   * @param mode 'fast' unless a test wants the reference path (same reports, slower).
   * @param start 'genesis' unless this verifier checks one slice of a chain (see VerifierStart).
   */
  constructor(
    readonly watchHeights: readonly number[] = [],
    readonly mode: VerifierMode = 'fast',
    readonly start: VerifierStart = 'genesis',
  ) {}

  /** In 'range' mode, the first block checked (its previous_hash links this slice to the one before). */
  get first(): Block | null {
    return this.#first;
  }

  /** In 'range' mode, the hashes of the blocks checked, in order. */
  get blockHashes(): readonly string[] {
    return this.#hashes;
  }

  /** In 'range' mode, the transaction counts of the blocks checked, in order. */
  get blockTransactionCounts(): readonly number[] {
    return this.#counts;
  }

  /** Assigned decisions checked: decision transaction id -> vm_id (a range's, for the join). */
  get assignments(): ReadonlyMap<string, string> {
    return this.#assigned;
  }

  /**
   * In 'range' mode, the closings whose decision this slice does not hold, as [decision id, vm_id]:
   * the join checks each against the assignments of the slices before.
   */
  get openClosings(): readonly (readonly [string, string])[] {
    return this.#openClosings;
  }

  /** The ids of the transactions checked, in chain order (a range's, for cross-range duplicates). */
  get transactionIds(): ReadonlySet<string> {
    return this.#seen;
  }

  get blocksChecked(): number {
    return this.#blocks;
  }

  get head(): Block | null {
    return this.#head;
  }

  /** The hash of the checked block at a watched height, if the chain reached it. */
  hashAt(height: number): string | undefined {
    return this.#hashAt.get(height);
  }

  blocksRoot(): string {
    return this.#digest.blocksRoot();
  }

  get transactionCount(): number {
    return this.#transactions;
  }

  /** Checks the next block; on success it becomes the head. Order of checks: see verifyChain. */
  check(raw: unknown): ChainFailure | null {
    let due = this.#base + this.#blocks;
    const fast = this.mode === 'fast' && isCanonicalOrderBlock(raw);
    let block: Block;
    if (fast) {
      block = raw;
    } else {
      const parsed = blockSchema.safeParse(raw);
      if (!parsed.success) {
        return new ChainFailure(
          due,
          'malformed',
          ValidationError.fromZod(parsed.error, `block ${due}`).message,
        );
      }
      block = parsed.data;
    }
    const previous = this.#head;
    if (previous === null && this.start === 'range') {
      this.#base = block.height;
      due = block.height;
    }
    if (block.height !== due) {
      return new ChainFailure(due, 'height-gap', `block at position ${due} has height ${block.height}`);
    }
    if (previous === null) {
      if ((this.start === 'genesis' || block.height === 0) && canonicalString(block) !== GENESIS_CANONICAL) {
        return new ChainFailure(
          0,
          'bad-genesis',
          `genesis differs from the fixed genesis block ${GENESIS.block_hash}`,
        );
      }
    } else if (block.previous_hash !== previous.block_hash) {
      return new ChainFailure(
        due,
        'broken-link',
        `previous_hash ${block.previous_hash} is not block ${due - 1}'s hash ${previous.block_hash}`,
      );
    }
    if (block.transaction_count !== block.transactions.length) {
      return new ChainFailure(
        due,
        'wrong-transaction-count',
        `transaction_count ${block.transaction_count} but ${block.transactions.length} transactions`,
      );
    }
    // A block zod accepted in 'fast' mode (keys in another order, as the SQLite store hands them back)
    // is written out by canonicalTextOfValidated; only 'reference' asks the canonicalize package.
    const root = fast
      ? rootOfCanonicalOrder(block.transactions)
      : this.mode === 'fast'
        ? merkleRootOfValidated(block.transactions)
        : transactionsRootOfValidated(block.transactions);
    if (root !== block.merkle_root) {
      return new ChainFailure(
        due,
        'wrong-merkle-root',
        `merkle_root ${block.merkle_root}, transactions give ${root}`,
      );
    }
    const hash = fast ? blockHashOfValidated(block) : blockHash(block);
    if (hash !== block.block_hash) {
      return new ChainFailure(
        due,
        'wrong-block-hash',
        `block_hash ${block.block_hash}, header gives ${hash}`,
      );
    }
    for (const [i, tx] of block.transactions.entries()) {
      const id = transactionId(tx.task_id, PHASE_OF_STATUS[tx.status]);
      if (id !== tx.transaction_id) {
        // Derived ids are what makes "one decision and one closing per task" checkable from the chain alone.
        return new ChainFailure(
          due,
          'malformed',
          `block ${due}: transactions.${i}.transaction_id: is not the id derived from task_id and status (${id})`,
        );
      }
      const relation = relationIssue(tx);
      if (relation) {
        return new ChainFailure(
          due,
          'malformed',
          `block ${due}: transactions.${i}.${relation.field}: ${relation.message}`,
        );
      }
      if (this.#seen.has(tx.transaction_id)) {
        return new ChainFailure(
          due,
          'duplicate-transaction',
          `transaction ${tx.transaction_id} appears earlier`,
        );
      }
      const closing = this.#checkClosing(tx, due, i);
      if (closing) return closing;
      this.#seen.add(tx.transaction_id);
      if (tx.status === 'assigned') this.#assigned.set(tx.transaction_id, tx.vm_id!);
    }
    if (this.start === 'genesis') this.#digest.append(block);
    else {
      this.#hashes.push(hash);
      this.#counts.push(block.transactions.length);
      this.#first ??= block;
    }
    this.#head = block;
    if (this.watchHeights.includes(due)) this.#hashAt.set(due, hash);
    this.#blocks += 1;
    this.#transactions += block.transactions.length;
    return null;
  }

  /**
   * A closing must follow its task's assigned decision on the same VM (docs/ledger-format.md section
   * 2.2): earlier in the chain, in an earlier block or earlier in the same one. In 'range' mode a
   * decision outside the slice is left for the join to find in the slices before.
   */
  #checkClosing(tx: Transaction, due: number, i: number): ChainFailure | null {
    if (PHASE_OF_STATUS[tx.status] !== 'close') return null;
    const decisionId = transactionId(tx.task_id, 'decision');
    const vm = this.#assigned.get(decisionId);
    if (vm === tx.vm_id) return null;
    if (vm === undefined && !this.#seen.has(decisionId) && this.start === 'range' && this.#base > 0) {
      this.#openClosings.push([decisionId, tx.vm_id!]);
      return null;
    }
    return new ChainFailure(
      due,
      'unmatched-closing',
      `block ${due}: transactions.${i} (${tx.status} ${tx.task_id} on ${tx.vm_id}) follows no assigned ` +
        `decision of ${tx.task_id} on that VM (decision ${decisionId}: ${
          vm !== undefined ? `assigned to ${vm}` : this.#seen.has(decisionId) ? 'rejected' : 'absent'
        })`,
    );
  }

  /** The report for the blocks checked so far, failed with `failure` or valid. */
  report(failure: ChainFailure | null): ChainVerification {
    const head = this.#head;
    return {
      valid: failure === null,
      height: head?.height ?? -1,
      head_hash: head?.block_hash ?? null,
      blocks_checked: this.#blocks,
      transactions_checked: this.#transactions,
      first_bad_height: failure?.height ?? null,
      problem: failure?.problem ?? null,
      detail: failure?.detail ?? null,
      ...(failure === null && head !== null && this.start === 'genesis'
        ? { digest: this.#digest.digest(head.timestamp) }
        : {}),
    };
  }

  /** The failure, if any, of ending the chain here when it should end at `expected`. */
  headFailure(expected: ChainHead): ChainFailure | null {
    const head = this.#head;
    if (head === null) return new ChainFailure(0, 'bad-genesis', 'the chain is empty: no genesis block');
    if (expected.height === head.height && expected.hash === head.block_hash) return null;
    // Name the first block that differs from the expected history: the missing one after a short chain,
    // the expected head's height when that block was replaced, or the first block past it.
    const atExpected = this.#hashAt.get(expected.height);
    const firstBad =
      atExpected === undefined
        ? this.#blocks
        : atExpected !== expected.hash
          ? expected.height
          : expected.height + 1;
    return new ChainFailure(
      firstBad,
      'head-mismatch',
      `chain ends at ${head.height}/${head.block_hash}, expected ${expected.height}/${expected.hash}`,
    );
  }
}
