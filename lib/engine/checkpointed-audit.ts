import { fromHex, toHex, verifyConsistency } from '../ledger';
import { frontierRoot, TiledMerkleTree } from '../ledger/tiles';
import type { Digest, VerificationProblem, VerificationReport } from '../ledger/types';
import type { AuditCheckpointStore } from '../ports/audit-checkpoint-store';
import { isMerkleLedgerStore, type LedgerStore } from '../ports/ledger-store';
import { type AuditCheckpoint, auditSince, digestOfCheckpoint, emptyCheckpoint } from './incremental-audit';

export type { AuditCheckpointStore };

export interface ResumedAudit {
  report: VerificationReport & {
    /** The run stopped at its budget before the head; the next run resumes from the saved checkpoint. */
    incomplete: boolean;
    /** Blocks between the verified checkpoint and the head the run read (0 when caught up). */
    behind: number;
  };
  checkpoint: AuditCheckpoint;
  /** The digest of the verified head when the run reached the head with a valid chain; else null. */
  digest: Digest | null;
}

export interface ResumeAuditOptions {
  checkpoints: AuditCheckpointStore;
  /** The latest signed digest (signature already checked): the chain must extend it. */
  trusted?: Digest | null;
  /** Stop, resumable, after this many ms. */
  budgetMs?: number;
  pageSize?: number;
  now?: () => number;
}

/**
 * One run of the incremental audit a scheduled verifier makes (docs/ledger-format.md section 10.2): it
 * starts from the saved checkpoint, or from the latest signed digest when that is newer (its frontier read
 * from the stored tiles and checked against the signed blocks_root), checks that the saved checkpoint and
 * the signed digest are one tree (an RFC 9162 consistency proof from the tiles, verified against both
 * roots), that the chain has not been rolled back below the checkpoint, then verifies only the blocks after
 * it (auditSince) within the budget and saves the new checkpoint, valid or not so far. The cost is what is
 * new plus O(log n) reads, so no run outgrows its time limit: a long backlog is worked off run by run.
 */
export async function resumeAudit(store: LedgerStore, options: ResumeAuditOptions): Promise<ResumedAudit> {
  const trusted = options.trusted ?? null;
  const saved = await options.checkpoints.load();
  let base = saved ?? emptyCheckpoint();
  const fail = (problem: VerificationProblem, height: number | null, detail: string): ResumedAudit => ({
    report: {
      valid: false,
      height: base.height,
      head_hash: base.head_hash || null,
      blocks_checked: 0,
      transactions_checked: 0,
      first_bad_height: height,
      problem,
      detail,
      incomplete: false,
      behind: 0,
    },
    checkpoint: base,
    digest: null,
  });

  if (trusted && trusted.tree_size > 0) {
    if (!isMerkleLedgerStore(store)) {
      throw new Error('resuming an audit from a signed digest needs a store that keeps the Merkle tiles');
    }
    const tree = await store.readTreeHead();
    if (tree.tree_size < trusted.tree_size) {
      return fail(
        'digest-mismatch',
        tree.tree_size,
        `the chain has ${tree.tree_size} blocks, fewer than the ${trusted.tree_size} of the latest signed digest: rolled back`,
      );
    }
    const tiles = new TiledMerkleTree((keys) => store.readTiles(keys), tree.tree_size, store.tileHeight);
    if (base.tree_size < trusted.tree_size) {
      // Start at the signed digest: its frontier is the perfect subtrees of [0, tree_size), from the tiles.
      const frontier = await tiles.frontier(trusted.tree_size);
      const root = toHex(frontierRoot({ size: trusted.tree_size, roots: frontier }));
      const head = (await store.readHeightStates([trusted.height]))[0];
      if (root !== trusted.blocks_root || (head && head.block_hash !== trusted.head_hash)) {
        return fail(
          'digest-mismatch',
          trusted.height,
          `the stored tree at size ${trusted.tree_size} (blocks_root ${root}) is not the latest signed digest's (${trusted.blocks_root})`,
        );
      }
      base = {
        height: trusted.height,
        head_hash: trusted.head_hash,
        tree_size: trusted.tree_size,
        frontier: frontier.map(toHex),
        transaction_count: trusted.transaction_count,
        timestamp: trusted.timestamp,
      };
    } else {
      const proof = await tiles.consistencyProof(trusted.tree_size, base.tree_size);
      const baseRoot = fromHex(digestOfCheckpoint(base).blocks_root);
      if (
        !verifyConsistency(trusted.tree_size, base.tree_size, fromHex(trusted.blocks_root), baseRoot, proof)
      ) {
        return fail(
          'digest-mismatch',
          trusted.height,
          `the audit checkpoint at height ${base.height} does not extend the latest signed digest (height ${trusted.height})`,
        );
      }
    }
  }

  const head = await store.readHead();
  if (head.height < base.height || (head.height === base.height && head.hash !== base.head_hash)) {
    return fail(
      head.height < base.height ? 'digest-mismatch' : 'head-mismatch',
      head.height,
      `the chain's head (height ${head.height}, ${head.hash}) does not extend the verified checkpoint (height ${base.height}, ${base.head_hash})`,
    );
  }

  const run = await auditSince(store, base, {
    ...(options.budgetMs !== undefined ? { budgetMs: options.budgetMs } : {}),
    ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  if (run.valid && run.checkpoint.tree_size > (saved?.tree_size ?? 0)) {
    await options.checkpoints.save(run.checkpoint);
  }
  return {
    report: {
      valid: run.valid,
      height: run.checkpoint.height,
      head_hash: run.checkpoint.head_hash || null,
      blocks_checked: run.blocks_checked,
      transactions_checked: run.transactions_checked,
      first_bad_height: run.first_bad_height,
      problem: run.problem,
      detail: run.incomplete
        ? `verified up to height ${run.checkpoint.height} of ${head.height} within the run's budget; the next run resumes there`
        : run.detail,
      incomplete: run.incomplete,
      behind: Math.max(0, head.height - run.checkpoint.height),
    },
    checkpoint: run.checkpoint,
    digest:
      run.valid && !run.incomplete && run.checkpoint.height >= 0 ? digestOfCheckpoint(run.checkpoint) : null,
  };
}
