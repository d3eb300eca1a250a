/**
 * The record of each task the intake accepted, written before the task is queued. It is the
 * idempotency check (one conditional write per id) and what GET /tasks/{id} answers `queued` from
 * until the ledger records a decision (lib/engine/task-intake.ts). Local: a SQLite table in the
 * ledger's file; AWS: `ACCEPTED#<task_id>` items in the ledger table.
 */
export interface Acceptance {
  task_id: string;
  /** SHA-256 (hex) of the canonical task body (lib/engine/task-intake.ts taskBodySha256). */
  body_sha256: string;
  /** Epoch ms of the request that first claimed the id. */
  accepted_at: number;
  /**
   * True once the task reached the queue. A claim that is not queued was written by a request that
   * then failed to queue it (503) or is still queueing it: a repeat with the same body queues it again.
   */
  queued: boolean;
}

export type AcceptanceClaim = Omit<Acceptance, 'queued'>;

export interface TaskAcceptances {
  /**
   * Writes each claim (queued: false) unless a record with its id exists: one conditional write per
   * id, so of two concurrent requests exactly one claims an id. Answers the records that already
   * existed, which were left as they were; every other claim is now written.
   */
  claim(claims: readonly AcceptanceClaim[]): Promise<Map<string, Acceptance>>;
  /** Writes the records as queued (a put: it restores a claim another request released meanwhile). */
  markQueued(claims: readonly AcceptanceClaim[]): Promise<void>;
  /** Deletes the claims that are still unqueued and carry the same hash: a refused request's undo. */
  release(claims: readonly AcceptanceClaim[]): Promise<void>;
  get(taskId: string): Promise<Acceptance | null>;
}
