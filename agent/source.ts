import type { Assignment } from './assignment';

export interface PollRequest {
  /** Highest block height the agent has seen; the source may wait for work above it. */
  since: number;
  /** Longest wait for new work, seconds; 0 answers at once. */
  waitS: number;
  signal: AbortSignal;
}

/**
 * Where an agent's work comes from. `poll` answers every assignment still open for the VM (a full
 * listing: the agent forgets dedupe keys that are no longer listed). The local runtime's feed is
 * one (http-source.ts); a TaskAssigned EventBridge rule into an SQS queue would be another, with
 * delivery-based listings and the ledger check doing the rest (docs/agent.md).
 */
export interface AssignmentSource {
  poll(request: PollRequest): Promise<Assignment[]>;
}
