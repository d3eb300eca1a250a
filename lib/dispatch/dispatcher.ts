import type { Block } from '../ledger/types';
import type { Clock } from '../ports/clock';
import {
  type AssignmentPublisher,
  CommandNotSentError,
  type CommandRunner,
  type DispatchRecords,
  type PublishFailure,
  type TaskAssigned,
} from '../ports/dispatcher';
import type { LedgerStore, TaskRecord } from '../ports/ledger-store';
import { committedAssignments, type Skipped, taskAssignedEvents } from './assignments';
import { commandRequest } from './command';

export interface DispatcherOptions {
  /** The ledger's task records; only read. */
  tasks: Pick<LedgerStore, 'getTasks'>;
  records: DispatchRecords;
  publisher: AssignmentPublisher;
  /** Present when commands run through Run Command (`dispatchViaSsm`). */
  commands?: CommandRunner;
  clock: Clock;
}

export type CommandOutcome =
  | { status: 'sent'; taskId: string; transactionId: string; commandId: string }
  /** Claimed earlier (a redelivered block): not sent again. */
  | { status: 'already-claimed'; taskId: string; transactionId: string; commandId: string | null }
  | { status: 'lease-ended'; taskId: string; transactionId: string }
  /** The runner refused it; the claim was released so that a redelivery may try again. */
  | { status: 'send-failed'; taskId: string; transactionId: string; error: string }
  /** No answer (e.g. a timeout): it may have gone out, so the claim stays and it is never sent again. */
  | { status: 'send-uncertain'; taskId: string; transactionId: string; error: string };

export interface DispatchOutcome {
  published: TaskAssigned[];
  skipped: Skipped[];
  commands: CommandOutcome[];
}

/** Thrown when some events could not be published: the blocks must be handed over again. */
export class PublishFailedError extends Error {
  override name = 'PublishFailedError';
  constructor(readonly failures: PublishFailure[]) {
    super(
      `${failures.length} TaskAssigned event(s) not published: ${failures
        .slice(0, 3)
        .map((f) => `${f.transactionId}: ${f.error}`)
        .join('; ')}`,
    );
  }
}

/**
 * Turns committed blocks into TaskAssigned events and, for tasks that carry a command, Run Command
 * invocations. Safe to call again with the same blocks (the outbox redelivers after any failure):
 * events go out again (consumers dedupe on transactionId) but a command is sent at most once per
 * task, guarded by a claim recorded before sending.
 */
export class Dispatcher {
  constructor(private readonly options: DispatcherOptions) {}

  async dispatch(blocks: readonly Block[]): Promise<DispatchOutcome> {
    const assignments = committedAssignments(blocks);
    if (assignments.length === 0) return { published: [], skipped: [], commands: [] };
    const ids = assignments.map((a) => a.taskId);
    const [found, specs] = await Promise.all([
      this.options.tasks.getTasks(ids),
      this.options.records.getSpecs(ids),
    ]);
    const records = new Map(
      found.filter((r): r is TaskRecord => r !== null).map((r) => [r.task_id, r] as const),
    );
    const { events, skipped } = taskAssignedEvents(assignments, records, specs);
    const failures = events.length > 0 ? await this.options.publisher.publish(events) : [];
    if (failures.length > 0) throw new PublishFailedError(failures);
    const commands: CommandOutcome[] = [];
    if (this.options.commands) {
      for (const event of events) {
        const outcome = await this.runCommand(this.options.commands, event);
        if (outcome) commands.push(outcome);
      }
    }
    return { published: events, skipped, commands };
  }

  private async runCommand(runner: CommandRunner, event: TaskAssigned): Promise<CommandOutcome | null> {
    const now = this.options.clock.now();
    const request = commandRequest(event, now);
    const ids = { taskId: event.task.id, transactionId: event.transactionId };
    if (request === null) {
      return event.task.command === undefined ? null : { status: 'lease-ended', ...ids };
    }
    const claim = await this.options.records.claimCommand(event.task.id, event.transactionId, now);
    if (claim.state !== 'claimed') {
      return {
        status: 'already-claimed',
        ...ids,
        commandId: claim.state === 'sent' ? claim.commandId : null,
      };
    }
    let commandId: string;
    try {
      ({ commandId } = await runner.send(request));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!(error instanceof CommandNotSentError))
        return { status: 'send-uncertain', ...ids, error: message };
      await this.options.records.releaseCommand(event.task.id, event.transactionId);
      return { status: 'send-failed', ...ids, error: message };
    }
    await this.options.records.recordCommand(event.task.id, commandId);
    return { status: 'sent', ...ids, commandId };
  }
}
