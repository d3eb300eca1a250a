import { backoffDelay } from '../lib/engine/backoff';
import type { TaskOutcome } from '../lib/ledger/types';
import { TransientError } from '../lib/ports/assignment-source';
import type { Sleep } from './executor';
import type { ReportResult, SchedulerApi } from './scheduler-api';

export interface ReporterOptions {
  /** Attempts before giving up on a report (the lease then expires the task). Default 10. */
  maxAttempts?: number;
  /** First backoff ceiling, ms. Default 250. */
  baseMs?: number;
  /** Largest backoff, ms. Default 8000. */
  capMs?: number;
  random?: () => number;
}

export type ReportOutcome =
  | { reported: true; result: ReportResult; attempts: number }
  | { reported: false; error: string; attempts: number };

/**
 * Reports a completion, retrying transient failures (network, 429, 5xx) with full-jitter backoff.
 * The server's completion is conditional, so a retry of a report that did land is answered
 * already-final and changes nothing; a permanent refusal (401, 400) is not retried.
 */
export async function reportCompletion(
  api: SchedulerApi,
  taskId: string,
  outcome: TaskOutcome | undefined,
  sleep: Sleep,
  options: ReporterOptions = {},
  onRetry: (attempt: number, error: string, delayMs: number) => void = () => undefined,
): Promise<ReportOutcome> {
  const maxAttempts = options.maxAttempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return { reported: true, result: await api.complete(taskId, outcome), attempts: attempt };
    } catch (error) {
      const message = (error as Error).message;
      if (!(error instanceof TransientError) || attempt >= maxAttempts) {
        return { reported: false, error: message, attempts: attempt };
      }
      const delayMs = backoffDelay(attempt, {
        baseMs: options.baseMs ?? 250,
        capMs: options.capMs ?? 8000,
        ...(options.random ? { random: options.random } : {}),
      });
      onRetry(attempt, message, delayMs);
      await sleep(delayMs);
    }
  }
}
