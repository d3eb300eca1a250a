import type { CompletionSender } from '../ports/completion-sender';
import type { LedgerStore } from '../ports/ledger-store';
import type { CompletionRequest } from '../schemas/completion';
import type { CloseOutcome, Engine } from './types';

/**
 * The one settlement of reported completions, whoever reported them: the local runtime calls it for
 * each POST /tasks/{id}/complete, the AWS lease closer for each batch of the completion queue. The
 * engine's close is conditional, so a completion is recorded at most once: a repeat (a redelivered
 * message, two reporters racing, a report after the lease expired) finds the task final and writes
 * nothing. A batch is one `completeMany` (one commit per block of closings) where the engine has it.
 *
 * Outcomes come back in `requests` order. Each body's reported outcome (exit code, duration, output
 * hash) goes into its transaction: `failed` for a non-zero exit or a signal, else `completed`.
 */
export async function settleCompletions(
  engine: Pick<Engine, 'complete' | 'completeMany'>,
  requests: readonly CompletionRequest[],
): Promise<CloseOutcome[]> {
  if (requests.length === 0) return [];
  const ids = requests.map((r) => r.task_id);
  const reported = requests.map((r) => r.body.outcome);
  if (requests.length > 1 && engine.completeMany) return engine.completeMany(ids, reported);
  const outcomes: CloseOutcome[] = [];
  for (const [i, id] of ids.entries()) outcomes.push(await engine.complete(id, reported[i]));
  return outcomes;
}

/** What became of a completion handed to the queue instead of the engine. */
export type QueuedCompletion =
  | { status: 'accepted' }
  | Extract<CloseOutcome, { status: 'already-final' | 'unknown' }>;

/**
 * A completion reported where the chain may not be written (the AWS API and command-status
 * functions): the task's record is read first (one GetItem), so an unknown or final task is answered
 * as the engine would (`unknown`, `already-final`) without a message; an assigned one is queued for
 * the lease closer. Two reports racing may both be queued: the closer records the first only.
 */
export async function queueCompletion(
  deps: { tasks: Pick<LedgerStore, 'getTask'>; sender: CompletionSender },
  request: CompletionRequest,
  source: Parameters<CompletionSender['send']>[1],
): Promise<QueuedCompletion> {
  const record = await deps.tasks.getTask(request.task_id);
  if (!record) return { status: 'unknown' };
  if (record.status !== 'assigned') return { status: 'already-final', taskStatus: record.status };
  await deps.sender.send(request, source);
  return { status: 'accepted' };
}
