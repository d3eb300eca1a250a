import type * as z from 'zod';
import type { TaskOutcome } from '../lib/ledger/types';
import { PermanentError } from '../lib/ports/assignment-source';
import { completeAnswer, taskStateAnswer } from '../lib/schemas/client';
import type { AgentHttp } from './http';

/** What the ledger says about a task, as far as the agent cares. */
export interface TaskState {
  status: 'queued' | 'assigned' | 'rejected' | 'completed' | 'failed' | 'expired';
  transactionId: string | null;
}

/**
 * How a completion report ended: recorded now (local runtime), accepted for recording (AWS: the lease
 * closer records it from its queue), already final (a repeat, or expired), or unknown.
 */
export type ReportResult = 'closed' | 'accepted' | 'already-final' | 'unknown';

/** The scheduler calls the agent makes; each is one attempt (the reporter retries). */
export interface SchedulerApi {
  /** null when the server knows no such task. */
  taskState(taskId: string, signal?: AbortSignal): Promise<TaskState | null>;
  /** Reports how the run ended (docs/ledger-format.md 2.5): completed, or failed by the outcome. */
  complete(taskId: string, outcome?: TaskOutcome): Promise<ReportResult>;
}

/** GET /tasks/{id} and POST /tasks/{id}/complete of either runtime. */
export class HttpSchedulerApi implements SchedulerApi {
  constructor(private readonly http: AgentHttp) {}

  async taskState(taskId: string, signal?: AbortSignal): Promise<TaskState | null> {
    try {
      const { body } = await this.http.json('GET', `tasks/${encodeURIComponent(taskId)}`, {
        ...(signal ? { signal } : {}),
      });
      const parsed = parse(taskStateAnswer, body, 'GET /tasks/{id}');
      return { status: parsed.status, transactionId: parsed.transaction_id };
    } catch (error) {
      if (error instanceof PermanentError && error.status === 404) return null;
      throw error;
    }
  }

  async complete(taskId: string, outcome?: TaskOutcome): Promise<ReportResult> {
    try {
      const { body } = await this.http.json(
        'POST',
        `tasks/${encodeURIComponent(taskId)}/complete`,
        outcome === undefined ? {} : { body: { outcome } },
      );
      return parse(completeAnswer, body, 'POST /tasks/{id}/complete').status;
    } catch (error) {
      if (error instanceof PermanentError && error.status === 404) return 'unknown';
      // A server that answers a repeat with a conflict means the same as already-final.
      if (error instanceof PermanentError && error.status === 409) return 'already-final';
      throw error;
    }
  }
}

function parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new PermanentError(`unexpected answer to ${what}: ${parsed.error.message}`);
  return parsed.data;
}
