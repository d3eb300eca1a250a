import { blockLeafHash, ChainVerifier, fromHex, toHex } from '../ledger';
import { appendLeaves, frontierRoot } from '../ledger/tiles';
import type { Block, Digest, VerificationProblem } from '../ledger/types';
import type { LedgerStore } from '../ports/ledger-store';
import { isMerkleLedgerStore } from '../ports/ledger-store';

/**
 * What an auditor keeps between runs so that each run checks only what is new: the verified head, the
 * block-hash tree's frontier at it (docs/ledger-format.md "Stored Merkle tiles": one perfect-subtree head
 * per set bit of tree_size, largest first, hex) and the running transaction count. Plain JSON, so it can
 * be stored anywhere (a file, an item); `digest` is the digest it corresponds to.
 */
export interface AuditCheckpoint {
  height: number;
  head_hash: string;
  tree_size: number;
  frontier: string[];
  transaction_count: number;
  timestamp: string;
}

export interface IncrementalAuditResult {
  valid: boolean;
  /** Where the next run starts: advanced over every block verified, even when the run stopped early. */
  checkpoint: AuditCheckpoint;
  blocks_checked: number;
  transactions_checked: number;
  /** True when the run stopped at its budget before the head: the next run resumes from `checkpoint`. */
  incomplete: boolean;
  problem: VerificationProblem | null;
  first_bad_height: number | null;
  detail: string | null;
}

export interface IncrementalAuditOptions {
  /** Stop (incomplete, resumable) after this many ms. @default Infinity */
  budgetMs?: number;
  /** Blocks read per store call. @default 100 */
  pageSize?: number;
  now?: () => number;
}

/** The checkpoint before any block: the next run verifies the chain from genesis. */
export function emptyCheckpoint(): AuditCheckpoint {
  return { height: -1, head_hash: '', tree_size: 0, frontier: [], transaction_count: 0, timestamp: '' };
}

export function digestOfCheckpoint(c: AuditCheckpoint): Digest {
  return {
    height: c.height,
    head_hash: c.head_hash,
    tree_size: c.tree_size,
    blocks_root: toHex(frontierRoot({ size: c.tree_size, roots: c.frontier.map(fromHex) })),
    transaction_count: c.transaction_count,
    timestamp: c.timestamp,
  };
}

/**
 * Verifies the blocks after `checkpoint` (docs/ledger-format.md section 5, block by block: hash, link,
 * Merkle root, transaction ids) and extends the checkpoint's frontier with them, so that the new digest
 * is by construction consistent with the old one (the same tree, extended): no consistency proof has to
 * be fetched, and no block before the checkpoint is read. A transaction id is checked against the
 * store's index (it must point at the block that holds it), which is how duplicates of ids older than
 * the checkpoint are caught without keeping every id. When the store keeps the Merkle state, the run
 * ends by comparing its root with the stored tree head's at the same size.
 */
export async function auditSince(
  store: LedgerStore,
  checkpoint: AuditCheckpoint,
  options: IncrementalAuditOptions = {},
): Promise<IncrementalAuditResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const budget = options.budgetMs ?? Number.POSITIVE_INFINITY;
  const pageSize = options.pageSize ?? 100;
  let current = { ...checkpoint, frontier: [...checkpoint.frontier] };
  let checked = 0;
  let transactions = 0;
  const fail = (problem: VerificationProblem, height: number, detail: string): IncrementalAuditResult => ({
    valid: false,
    checkpoint: current,
    blocks_checked: checked,
    transactions_checked: transactions,
    incomplete: false,
    problem,
    first_bad_height: height,
    detail,
  });

  const head = await store.readHead();
  while (current.height < head.height) {
    if (now() - started >= budget) {
      return {
        valid: true,
        checkpoint: current,
        blocks_checked: checked,
        transactions_checked: transactions,
        incomplete: true,
        problem: null,
        first_bad_height: null,
        detail: null,
      };
    }
    const from = current.height + 1;
    const page: Block[] = await store.getBlocks(from, Math.min(pageSize, head.height - current.height));
    if (page.length === 0) return fail('height-gap', from, `the store has no block at height ${from}`);
    const first = page[0]!;
    if (from > 0 && (first.height !== from || first.previous_hash !== current.head_hash)) {
      return fail(
        'broken-link',
        first.height,
        `block ${first.height} does not link to the checkpoint head ${current.head_hash}`,
      );
    }
    // 'genesis' mode for a run from the start (it checks the genesis block), 'range' for the rest.
    const verifier = new ChainVerifier([], 'fast', from === 0 ? 'genesis' : 'range');
    for (const block of page) {
      const failure = verifier.check(block);
      if (failure) return fail(failure.problem, failure.height, failure.detail);
    }
    // Every transaction's index entry, read for the whole page at once when the store can (one
    // BatchGetItem per 100 ids on DynamoDB): the cost is per page, not per transaction.
    const ids = page.flatMap((b) => b.transactions.map((tx) => tx.transaction_id));
    const located = store.findTransactions
      ? await store.findTransactions(ids)
      : await Promise.all(ids.map((id) => store.findTransaction(id)));
    let next = 0;
    for (const block of page) {
      for (const [index, tx] of block.transactions.entries()) {
        const at = located[next++] ?? null;
        if (!at || at.height !== block.height || at.index !== index) {
          return fail(
            'duplicate-transaction',
            block.height,
            `transaction ${tx.transaction_id} is indexed at ${at ? `${at.height}/${at.index}` : 'nowhere'}, not ${block.height}/${index}`,
          );
        }
      }
    }
    const { frontier } = appendLeaves(
      { size: current.tree_size, roots: current.frontier.map(fromHex) },
      page.map((b) => blockLeafHash(b.block_hash)),
    );
    const last = page[page.length - 1]!;
    current = {
      height: last.height,
      head_hash: last.block_hash,
      tree_size: frontier.size,
      frontier: frontier.roots.map(toHex),
      transaction_count: current.transaction_count + page.reduce((n, b) => n + b.transaction_count, 0),
      timestamp: last.timestamp,
    };
    checked += page.length;
    transactions += page.reduce((n, b) => n + b.transaction_count, 0);
  }

  if (isMerkleLedgerStore(store) && checked > 0) {
    const tree = await store.readTreeHead();
    if (tree.tree_size === current.tree_size) {
      const stored = toHex(frontierRoot({ size: tree.tree_size, roots: tree.frontier }));
      const verified = digestOfCheckpoint(current).blocks_root;
      if (stored !== verified || tree.head.hash !== current.head_hash) {
        return fail(
          'digest-mismatch',
          current.height,
          `the stored tree head (blocks_root ${stored}) is not the verified chain's (${verified})`,
        );
      }
    }
  }
  return {
    valid: true,
    checkpoint: current,
    blocks_checked: checked,
    transactions_checked: transactions,
    incomplete: false,
    problem: null,
    first_bad_height: null,
    detail: null,
  };
}

/**
 * The checkpoint of a chain a full verification just found valid up to `digest`, taken from the stored
 * tree head when it is at the same head and its frontier folds to the verified blocks_root (a frontier
 * with the verified root is the verified one unless SHA-256 collides). Null when the head moved since.
 */
export async function checkpointAfterFullVerify(
  store: LedgerStore,
  digest: Digest,
): Promise<AuditCheckpoint | null> {
  if (!isMerkleLedgerStore(store)) return null;
  const tree = await store.readTreeHead();
  if (tree.head.height !== digest.height || tree.head.hash !== digest.head_hash) return null;
  const checkpoint: AuditCheckpoint = {
    height: tree.head.height,
    head_hash: tree.head.hash,
    tree_size: tree.tree_size,
    frontier: tree.frontier.map(toHex),
    transaction_count: digest.transaction_count,
    timestamp: digest.timestamp,
  };
  return digestOfCheckpoint(checkpoint).blocks_root === digest.blocks_root ? checkpoint : null;
}
