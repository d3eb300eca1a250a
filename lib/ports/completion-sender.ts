import type { CompletionRequest } from '../schemas/completion';

/**
 * Where a reported completion goes when the reporter may not write the chain (the API and
 * command-status functions on AWS): to the lease closer, which records it (lib/engine/completions.ts).
 */
export interface CompletionSender {
  /** Resolves once the completion is durably queued; throws when it is not. */
  send(completion: CompletionRequest, source: 'api' | 'command-status'): Promise<void>;
}
