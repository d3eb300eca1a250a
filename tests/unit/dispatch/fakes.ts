import {
  type AssignmentPublisher,
  type CommandClaim,
  CommandNotSentError,
  type CommandRequest,
  type CommandRunner,
  type DispatchRecords,
  type PublishFailure,
  type TaskAssigned,
  type TaskSpec,
} from '../../../lib/ports/dispatcher';

/** DispatchRecords in memory, with the DynamoDB adapter's conditions (first spec wins, one claim per task). */
export class MemoryDispatchRecords implements DispatchRecords {
  readonly specs = new Map<string, TaskSpec>();
  readonly runs = new Map<string, { transactionId: string; commandId?: string }>();
  readonly commands = new Map<string, string>();
  /** Called at the start of putSpecs, to observe when specs are written. */
  onPutSpecs: (specs: readonly TaskSpec[]) => void | Promise<void> = () => {};

  async putSpecs(specs: readonly TaskSpec[]): Promise<void> {
    await this.onPutSpecs(specs);
    for (const s of specs) if (!this.specs.has(s.task_id)) this.specs.set(s.task_id, structuredClone(s));
  }
  async getSpecs(taskIds: readonly string[]): Promise<Map<string, TaskSpec>> {
    return new Map(
      taskIds.flatMap((id) => (this.specs.has(id) ? [[id, structuredClone(this.specs.get(id)!)]] : [])),
    );
  }
  async claimCommand(taskId: string, transactionId: string): Promise<CommandClaim> {
    const run = this.runs.get(taskId);
    if (!run) {
      this.runs.set(taskId, { transactionId });
      return { state: 'claimed' };
    }
    return run.commandId === undefined
      ? { state: 'sending', transactionId: run.transactionId }
      : { state: 'sent', transactionId: run.transactionId, commandId: run.commandId };
  }
  async releaseCommand(taskId: string, transactionId: string): Promise<void> {
    const run = this.runs.get(taskId);
    if (run && run.transactionId === transactionId && run.commandId === undefined) this.runs.delete(taskId);
  }
  async recordCommand(taskId: string, commandId: string): Promise<void> {
    const run = this.runs.get(taskId);
    if (!run || run.commandId !== undefined) throw new Error(`no claim in state sending for ${taskId}`);
    run.commandId = commandId;
    this.commands.set(commandId, taskId);
  }
  async taskOfCommand(commandId: string): Promise<string | null> {
    return this.commands.get(commandId) ?? null;
  }
  /** expires_at (epoch s) by record: `spec:<task>`, `run:<task>`, `command:<id>`, as the adapter sets it. */
  readonly expiries = new Map<string, number>();
  async expireRecords(taskIds: readonly string[], expiresAt: number): Promise<void> {
    for (const id of taskIds) {
      if (this.specs.has(id)) this.expiries.set(`spec:${id}`, expiresAt);
      const run = this.runs.get(id);
      if (run) this.expiries.set(`run:${id}`, expiresAt);
      if (run?.commandId !== undefined) this.expiries.set(`command:${run.commandId}`, expiresAt);
    }
  }
}

export class RecordingPublisher implements AssignmentPublisher {
  readonly events: TaskAssigned[] = [];
  /** Transaction ids whose events are refused (as EventBridge reports a failed entry). */
  readonly refuse = new Set<string>();
  async publish(events: readonly TaskAssigned[]): Promise<PublishFailure[]> {
    const failures: PublishFailure[] = [];
    for (const e of events) {
      if (this.refuse.has(e.transactionId))
        failures.push({ transactionId: e.transactionId, error: 'InternalFailure' });
      else this.events.push(structuredClone(e));
    }
    return failures;
  }
}

export class RecordingRunner implements CommandRunner {
  readonly sent: CommandRequest[] = [];
  /** Instance ids the runner refuses, as SSM refuses an unmanaged instance. */
  readonly refuse = new Set<string>();
  /** Instance ids for which no answer comes (a timeout): the command may or may not have started. */
  readonly silent = new Set<string>();
  async send(request: CommandRequest): Promise<{ commandId: string }> {
    if (this.refuse.has(request.instanceId))
      throw new CommandNotSentError(`InvalidInstanceId: ${request.instanceId}`);
    if (this.silent.has(request.instanceId)) throw new Error('socket hang up');
    this.sent.push(structuredClone(request));
    return { commandId: `command-${this.sent.length}` };
  }
}
