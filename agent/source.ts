import type { Assignment } from './assignment';

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
 * Where an agent's work comes from. Either a listing (the local feed, http-source.ts: every open
 * assignment on every answer) or deliveries (TaskAssigned events through SQS, sqs-source.ts: each
 * event once, unless it is not settled). The agent dedupes by transaction id across both and asks
 * the ledger before each run, so a repeated or stale item is harmless.
 */
export interface AssignmentSource {
  poll(request: PollRequest): Promise<Assignment[]>;
  /** Told once per assignment the agent took, when it is finished with it. */
  settle?(assignment: Assignment, how: Settlement): Promise<void>;
}
