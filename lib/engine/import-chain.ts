import { ValidationError } from '../errors';
import { ChainVerifier } from '../ledger/chain-verifier';
import { parseJsonl } from '../ledger/jsonl';
import type { Block, Digest } from '../ledger/types';
import type { LedgerStore } from '../ports/ledger-store';

export interface ImportedChain {
  height: number;
  blocks: number;
  transactions: number;
  digest: Digest;
}

export interface ImportOptions {
  /** Blocks per store append. @default 500 */
  batch?: number;
}

/**
 * Reads a JSON Lines export (docs/ledger-format.md section 6) into a store, verifying it as it is read:
 * every line is parsed and checked as section 5 checks a chain (ChainVerifier: hashes, links, Merkle
 * roots, transaction ids unique across the chain) before it is appended, so a chain that does not verify
 * is never written past its first bad block. Bad input throws ValidationError naming the line and the
 * field (`line 7: transactions.0.status: ...`, or `line 7: block 6: wrong-merkle-root: ...`). `open` is
 * called with the export's genesis block and must give a store holding just that block; the caller makes
 * the import all-or-nothing (bcs ledger import writes a temporary file and renames it only on success).
 *
 * Only the chain is imported (blocks, transaction index, Merkle tiles, counts), not the task records and
 * reservations the scheduler keeps: the result is for auditing (proofs, digests, consistency) and
 * benchmarks, not for scheduling on.
 */
export async function importChain(
  lines: AsyncIterable<string> | Iterable<string>,
  open: (genesis: Block) => Promise<LedgerStore>,
  options: ImportOptions = {},
): Promise<ImportedChain> {
  const batchSize = options.batch ?? 500;
  let lineNumber = 0;
  async function* counted() {
    for await (const line of lines) {
      lineNumber += 1;
      yield line;
    }
  }
  const verifier = new ChainVerifier();
  let store: LedgerStore | null = null;
  let pending: Block[] = [];
  const flush = async () => {
    if (!store || pending.length === 0) return;
    const head = await store.readHead();
    const result = await store.append(head, { blocks: pending, reservations: [], tasks: [] });
    if (!result.ok) throw new Error(`import stopped before height ${pending[0]!.height}: ${result.detail}`);
    pending = [];
  };
  for await (const block of parseJsonl(counted())) {
    const failure = verifier.check(block);
    if (failure) {
      throw new ValidationError(
        [{ field: `block ${failure.height}`, message: `${failure.problem}: ${failure.detail}` }],
        `line ${lineNumber}`,
      );
    }
    if (!store) {
      store = await open(block);
      const head = await store.readHead();
      if (head.height !== 0 || head.hash !== block.block_hash) {
        throw new Error(
          `the target store does not hold just this export's genesis block (its head is ${head.height})`,
        );
      }
      continue;
    }
    pending.push(block);
    if (pending.length >= batchSize) await flush();
  }
  if (!store) {
    throw new ValidationError(
      [{ field: '', message: 'no block: an export starts with the genesis block' }],
      'line 1',
    );
  }
  await flush();
  const report = verifier.report(null);
  if (!report.digest) throw new Error('the verifier gave no digest for a valid chain');
  return {
    height: report.height,
    blocks: report.blocks_checked,
    transactions: report.transactions_checked,
    digest: report.digest,
  };
}
