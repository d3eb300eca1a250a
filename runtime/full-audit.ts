import { type AuditJob, newAuditJob } from '../lib/engine/audit-job';
import { verifyStoreInParallel } from '../lib/engine/parallel-store-verify';
import type { ChainVerification } from '../lib/ledger/chain-verifier';
import { toTimestamp } from '../lib/ledger/time';
import type { ChainHead, Digest } from '../lib/ledger/types';
import type { LedgerStore } from '../lib/ports/ledger-store';

/** Finished jobs kept for GET /ledger/verify/{id}; the oldest is forgotten first. */
const KEPT_JOBS = 100;

/**
 * The local runtime's full re-audits (POST /ledger/verify {"full": true}): each runs in the background
 * on the worker-thread parallel verifier (lib/ledger/parallel-verify.ts), over a JSON Lines snapshot of
 * the chain up to the head read when the job started, and is held to that head and to the latest signed
 * digest. Jobs live in this process: a restarted server knows none.
 */
export class LocalAuditJobs {
  readonly #jobs = new Map<string, AuditJob>();
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly store: LedgerStore,
    private readonly options: { workers?: number; now?: () => number } = {},
  ) {}

  /** Starts a job and returns it (running); `onValid` sees the digest of a chain found valid. */
  start(trusted: Digest | null, onValid?: (digest: Digest) => Promise<void>): Promise<AuditJob> {
    return this.#start(trusted, onValid);
  }

  async #start(trusted: Digest | null, onValid?: (digest: Digest) => Promise<void>): Promise<AuditJob> {
    const now = this.options.now ?? Date.now;
    const head = await this.store.readHead();
    const job = newAuditJob({ head, ranges: [], trusted, started_at: toTimestamp(now()) });
    this.#remember(job);
    const run = this.#run(head, trusted)
      .then(async ({ digest, ...report }) => {
        if (report.valid && digest) await onValid?.(digest);
        this.#remember({
          ...job,
          state: 'done',
          finished_at: toTimestamp(now()),
          report,
          digest: report.valid && digest ? digest : null,
        });
      })
      .catch((error: unknown) => {
        this.#remember({ ...job, state: 'failed', finished_at: toTimestamp(now()), error: String(error) });
      })
      .finally(() => this.#running.delete(run));
    this.#running.add(run);
    return job;
  }

  async get(id: string): Promise<AuditJob | null> {
    return this.#jobs.get(id) ?? null;
  }

  /** Waits for the jobs running now (server shutdown, tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.#running]);
  }

  #remember(job: AuditJob): void {
    this.#jobs.delete(job.job_id);
    this.#jobs.set(job.job_id, job);
    while (this.#jobs.size > KEPT_JOBS) this.#jobs.delete(this.#jobs.keys().next().value!);
  }

  #run(head: ChainHead, trusted: Digest | null): Promise<ChainVerification> {
    return verifyStoreInParallel(this.store, head, {
      trusted,
      ...(this.options.workers !== undefined ? { workers: this.options.workers } : {}),
    });
  }
}
