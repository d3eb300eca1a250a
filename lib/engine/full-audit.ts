import { toHex } from '../ledger';
import type { SignedDigest } from '../ledger/signed-digest';
import { frontierRoot, TiledMerkleTree } from '../ledger/tiles';
import type { Digest } from '../ledger/types';
import type { AuditCheckpointStore } from '../ports/audit-checkpoint-store';
import type { AuditJobRunner, AuditJobStore } from '../ports/audit-jobs';
import { isMerkleLedgerStore, type LedgerStore } from '../ports/ledger-store';
import { type AuditJob, newAuditJob } from './audit-job';
import {
  type AuditRange,
  mergedFrontier,
  mergeRangeResults,
  planAuditRanges,
  type RangeResult,
  verifyStoreRange,
} from './range-audit';

/**
 * The three steps of a full re-audit run by workers (docs/ledger-format.md section 10.3): start plans the
 * ranges and records the job; each range is verified by its own worker; finish merges. On AWS they are
 * the verify function (start), the range function run by a Step Functions Distributed Map, and the merge
 * function; tests run them in process.
 */

export interface StartOptions {
  store: LedgerStore;
  jobs: AuditJobStore;
  runner: AuditJobRunner;
  /** The latest signed digest (signature already checked), or null. */
  trusted: Digest | null;
  blocksPerRange: number;
  maxRanges?: number;
  now: () => string;
}

export async function startFullAudit(options: StartOptions): Promise<AuditJob> {
  const head = await options.store.readHead();
  const ranges = planAuditRanges(head.height, {
    blocksPerRange: options.blocksPerRange,
    ...(options.maxRanges !== undefined ? { maxRanges: options.maxRanges } : {}),
    cutAfter: options.trusted ? [options.trusted.height] : [],
  });
  const job = newAuditJob({ head, ranges, trusted: options.trusted, started_at: options.now() });
  await options.jobs.create(job);
  await options.runner.start(job);
  return job;
}

/** One worker's part: verifies the range and records its result for the merge. */
export async function auditJobRange(
  store: LedgerStore,
  jobs: AuditJobStore,
  jobId: string,
  range: AuditRange,
): Promise<RangeResult> {
  const result = await verifyStoreRange(store, range);
  await jobs.putRange(jobId, result);
  return result;
}

export interface FinishOptions {
  store: LedgerStore;
  jobs: AuditJobStore;
  now: () => string;
  /** Why the workers could not finish (a Map iteration that failed for good): the job fails with it. */
  failure?: string;
  /** Signs and publishes the verified head's digest (only ever called for a valid chain). */
  sign?: (digest: Digest) => Promise<SignedDigest>;
  /** Moves the incremental audit's checkpoint up to the verified head, when it is behind. */
  checkpoints?: AuditCheckpointStore;
}

/**
 * Merges the job's range results (mergeRangeResults), holds the merged tree head to the store's tiles at
 * the same size (the tree the proofs are served from), and records the outcome. Idempotent: a job
 * already finished is returned as it is.
 */
export async function finishFullAudit(jobId: string, options: FinishOptions): Promise<AuditJob> {
  const { jobs, store } = options;
  const job = await jobs.get(jobId);
  if (!job) throw new Error(`no audit job ${jobId}`);
  if (job.state !== 'running') return job;
  const failed = (error: string): AuditJob => ({
    ...job,
    state: 'failed',
    finished_at: options.now(),
    error,
  });
  if (options.failure !== undefined) {
    const out = failed(options.failure);
    await jobs.finish(out);
    return out;
  }
  const results = await jobs.getRanges(
    jobId,
    job.ranges.map((r) => r.from),
  );
  const missing = results.indexOf(null);
  if (missing !== -1) {
    const out = failed(`range ${job.ranges[missing]!.from}..${job.ranges[missing]!.to} has no result`);
    await jobs.finish(out);
    return out;
  }
  const ranges = results as RangeResult[];
  const { digest, ...report } = mergeRangeResults(ranges, {
    expectedHead: job.head,
    trusted: job.trusted,
  });
  let outcome: AuditJob['report'] = report;
  let published: AuditJob['digest'] = null;
  if (report.valid && digest) {
    const stored = await storedRoot(store, digest.tree_size);
    if (stored !== null && stored !== digest.blocks_root) {
      outcome = {
        ...report,
        valid: false,
        first_bad_height: null,
        problem: 'digest-mismatch',
        detail: `the stored Merkle tiles give blocks_root ${stored} at tree size ${digest.tree_size}, the verified chain ${digest.blocks_root}`,
      };
    } else {
      published = options.sign ? await options.sign(digest) : digest;
      await options.checkpoints?.save({
        height: digest.height,
        head_hash: digest.head_hash,
        tree_size: digest.tree_size,
        frontier: mergedFrontier(ranges),
        transaction_count: digest.transaction_count,
        timestamp: digest.timestamp,
      });
    }
  }
  const out: AuditJob = {
    ...job,
    state: 'done',
    finished_at: options.now(),
    report: outcome,
    digest: published,
  };
  await jobs.finish(out);
  return out;
}

/** The tree head the store's tiles hold at `size`, or null when the store keeps no tiles. */
async function storedRoot(store: LedgerStore, size: number): Promise<string | null> {
  if (!isMerkleLedgerStore(store)) return null;
  const tree = await store.readTreeHead();
  if (tree.tree_size < size) return toHex(frontierRoot({ size: tree.tree_size, roots: tree.frontier }));
  const tiles = new TiledMerkleTree((keys) => store.readTiles(keys), tree.tree_size, store.tileHeight);
  const frontier = await tiles.frontier(size);
  return toHex(frontierRoot({ size, roots: frontier }));
}
