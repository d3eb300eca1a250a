/** The agent's side of dispatch: where a VM's assignments come from, and how a source fails. */

/** One task for the agent to run, whatever source it came from (HTTP feed, EventBridge via SQS). */
export interface Assignment {
  taskId: string;
  /** The ledger's assignment transaction: the dedupe key (an event source may deliver it twice). */
  transactionId: string;
  blockHeight: number;
  /** Shell command, or null: the agent then simulates the task by sleeping its duration. */
  command: string | null;
  /** Seconds. */
  durationS: number;
  /** Epoch ms after which the ledger expires the assignment; the agent kills the task then. */
  leaseExpiresAt: number;
  /** The GPU devices (local indexes) the task holds: the agent exports CUDA_VISIBLE_DEVICES. */
  devices?: readonly number[];
}

export interface PollRequest {
  /** Highest block height the agent has seen; the source may wait for work above it. */
  since: number;
  /** Longest wait for new work, seconds; 0 answers at once. */
  waitS: number;
  /** Free run slots: a source that hands out deliveries (not a listing) takes no more than this. */
  max: number;
  signal: AbortSignal;
}

/** What became of an assignment: finished with (whatever the outcome), or to be offered again. */
export type Settlement = 'done' | 'retry';

/**
 * Where an agent's work comes from. Either a listing (the local feed, agent/http-source.ts: every open
 * assignment on every answer) or deliveries (TaskAssigned events through SQS, lib/adapters/sqs/assignment-source.ts: each
 * event once, unless it is not settled). The agent dedupes by transaction id across both and asks
 * the ledger before each run, so a repeated or stale item is harmless.
 */
export interface AssignmentSource {
  poll(request: PollRequest): Promise<Assignment[]>;
  /** Told once per assignment the agent took, when it is finished with it. */
  settle?(assignment: Assignment, how: Settlement): Promise<void>;
}

/** A failure worth retrying: the network, a timeout, 429 or a 5xx. */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** A refusal retrying cannot fix: 400, 401, 403, 404 and the like, or a malformed answer. */
export class PermanentError extends Error {
  override name = 'PermanentError';
  constructor(
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
  }
}
