import type { Block } from '../ledger/types';
import type { Clock } from '../ports/clock';
import {
  type AssignmentPublisher,
  CommandNotSentError,
  type CommandRequest,
  type CommandRunner,
  type DispatchRecords,
  type PublishFailure,
  type TaskAssigned,
  type UndeliveredCommands,
} from '../ports/dispatcher';
import type { LedgerStore, TaskRecord } from '../ports/ledger-store';
import { committedAssignments, finalTaskIds, type Skipped, taskAssignedEvents } from './assignments';
import { commandRequest } from './command';
import { CommandNotAllowedError, type CommandTemplates } from './command-templates';

export interface DispatcherOptions {
  /** The ledger's task records; only read. */
  tasks: Pick<LedgerStore, 'getTasks'>;
  records: DispatchRecords;
  publisher: AssignmentPublisher;
  /** Present when commands run through Run Command (`dispatchViaSsm`). */
  commands?: CommandRunner;
  /**
   * The allow-list of command templates (lib/dispatch/command-templates.ts): a command that is not
   * one of them with valid arguments is never sent, and is dead-lettered. @default none allowed
   */
  templates?: CommandTemplates;
  clock: Clock;
  /**
   * Pauses between attempts of a refused send (CommandNotSentError, e.g. an instance whose SSM agent
   * has not registered yet): one retry per entry. @default [] (one attempt)
   */
  retryDelaysMs?: readonly number[];
  /**
   * Where a command refused on every attempt goes, with its whole assignment. Without it the claim is
   * released and nothing else happens (a redelivered block would try again, but a consumed stream
   * record is never redelivered). @default none
   */
  undelivered?: UndeliveredCommands;
  /** @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Seconds a finished task's dispatch records are kept. @default DISPATCH_RECORD_RETENTION_SECONDS */
  recordRetentionSeconds?: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type CommandOutcome =
  | { status: 'sent'; taskId: string; transactionId: string; commandId: string }
  /** Claimed earlier (a redelivered block): not sent again. */
  | { status: 'already-claimed'; taskId: string; transactionId: string; commandId: string | null }
  | { status: 'lease-ended'; taskId: string; transactionId: string }
  /** Not an allowed template with valid arguments: never sent, dead-lettered with `undelivered`. */
  | { status: 'not-allowed'; taskId: string; transactionId: string; error: string; deadLettered?: true }
  /**
   * The runner refused it on every attempt; the claim was released so that a redelivery may try
   * again, and with `undelivered` the assignment was dead-lettered (`deadLettered: true`).
   */
  | { status: 'send-failed'; taskId: string; transactionId: string; error: string; deadLettered?: true }
  /** No answer (e.g. a timeout): it may have gone out, so the claim stays and it is never sent again. */
  | { status: 'send-uncertain'; taskId: string; transactionId: string; error: string };

export interface DispatchOutcome {
  published: TaskAssigned[];
  skipped: Skipped[];
  commands: CommandOutcome[];
}

/**
 * How long the dispatch records of a finished task are kept before DynamoDB TTL may delete them:
 * a week, so that a late SSM status event or a redelivered stream record still finds them.
 */
export const DISPATCH_RECORD_RETENTION_SECONDS = 7 * 24 * 3600;

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
    const outcome = await this.dispatchAssignments(blocks);
    // After the assignments: a block that assigns and closes one task still sends its command first.
    const final = finalTaskIds(blocks);
    if (final.length > 0) {
      const retention = this.options.recordRetentionSeconds ?? DISPATCH_RECORD_RETENTION_SECONDS;
      await this.options.records.expireRecords(final, Math.ceil(this.options.clock.now() / 1000) + retention);
    }
    return outcome;
  }

  private async dispatchAssignments(blocks: readonly Block[]): Promise<DispatchOutcome> {
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
    if (this.options.commands) commands.push(...(await this.runCommands(this.options.commands, events)));
    return { published: events, skipped, commands };
  }

  /**
   * Claims and sends each command; the refused ones are tried again together after each retry delay
   * (one pause per block, not per command, so a block of many refused commands stays within the
   * function's timeout), then released and dead-lettered with their assignments.
   */
  private async runCommands(
    runner: CommandRunner,
    events: readonly TaskAssigned[],
  ): Promise<CommandOutcome[]> {
    const outcomes = new Map<TaskAssigned, CommandOutcome>();
    let pending: { event: TaskAssigned; request: CommandRequest }[] = [];
    const notAllowed: { event: TaskAssigned; error: string }[] = [];
    for (const event of events) {
      const now = this.options.clock.now();
      const ids = { taskId: event.task.id, transactionId: event.transactionId };
      let request: CommandRequest | null;
      try {
        request = commandRequest(event, now, this.options.templates ?? {});
      } catch (error) {
        if (!(error instanceof CommandNotAllowedError)) throw error;
        notAllowed.push({ event, error: error.message });
        continue;
      }
      if (request === null) {
        if (event.task.command !== undefined) outcomes.set(event, { status: 'lease-ended', ...ids });
        continue;
      }
      const claim = await this.options.records.claimCommand(event.task.id, event.transactionId, now);
      if (claim.state !== 'claimed') {
        outcomes.set(event, {
          status: 'already-claimed',
          ...ids,
          commandId: claim.state === 'sent' ? claim.commandId : null,
        });
        continue;
      }
      pending.push({ event, request });
    }
    const delays = this.options.retryDelaysMs ?? [];
    const sleep = this.options.sleep ?? defaultSleep;
    const refusals = new Map<TaskAssigned, string>();
    for (let attempt = 0; attempt <= delays.length && pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(delays[attempt - 1]!);
      const refused: typeof pending = [];
      for (const { event, request } of pending) {
        const ids = { taskId: event.task.id, transactionId: event.transactionId };
        try {
          const { commandId } = await runner.send(request);
          await this.options.records.recordCommand(event.task.id, commandId);
          outcomes.set(event, { status: 'sent', ...ids, commandId });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          // No answer: it may have gone out, so it is never sent again (the claim stays).
          if (!(error instanceof CommandNotSentError)) {
            outcomes.set(event, { status: 'send-uncertain', ...ids, error: message });
            continue;
          }
          refusals.set(event, message);
          refused.push({ event, request });
        }
      }
      pending = refused;
    }
    for (const { event } of pending) {
      await this.options.records.releaseCommand(event.task.id, event.transactionId);
    }
    if ((pending.length > 0 || notAllowed.length > 0) && this.options.undelivered) {
      // Throws when the dead letters did not get there: the block is then handed over again.
      const at = this.options.clock.now();
      await this.options.undelivered.deadLetter([
        ...notAllowed.map(({ event, error }) => ({ assignment: event, error, attempts: 0, at })),
        ...pending.map(({ event }) => ({
          assignment: event,
          error: refusals.get(event)!,
          attempts: delays.length + 1,
          at,
        })),
      ]);
    }
    for (const { event, error } of notAllowed) {
      outcomes.set(event, {
        status: 'not-allowed',
        taskId: event.task.id,
        transactionId: event.transactionId,
        error,
        ...(this.options.undelivered ? { deadLettered: true as const } : {}),
      });
    }
    for (const { event } of pending) {
      outcomes.set(event, {
        status: 'send-failed',
        taskId: event.task.id,
        transactionId: event.transactionId,
        error: refusals.get(event)!,
        ...(this.options.undelivered ? { deadLettered: true as const } : {}),
      });
    }
    return events.flatMap((e) => {
      const outcome = outcomes.get(e);
      return outcome ? [outcome] : [];
    });
  }
}
