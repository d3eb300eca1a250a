import type { Agent } from '../../../agent/agent';
import type { Executor, RunContext, RunOutcome, Sleep } from '../../../agent/executor';
import type { AgentLog } from '../../../agent/log';
import type { ReportResult, SchedulerApi, TaskState } from '../../../agent/scheduler-api';
import type { Assignment, AssignmentSource, PollRequest } from '../../../lib/ports/assignment-source';
import { ManualClock } from '../../../lib/ports/clock';

export const T0 = 1_800_000_000_000;

export function assignment(n: number, overrides: Partial<Assignment> = {}): Assignment {
  return {
    taskId: `t${n}`,
    transactionId: `tx${n}`,
    blockHeight: n,
    command: null,
    durationS: 10,
    leaseExpiresAt: T0 + 70_000,
    ...overrides,
  };
}

/**
 * Answers each poll with the next scripted listing, then with the open set (what the ledger still
 * holds as assigned) forever; records every request.
 */
export class ScriptedSource implements AssignmentSource {
  readonly requests: Pick<PollRequest, 'since' | 'waitS'>[] = [];
  constructor(
    private readonly script: Assignment[][],
    private readonly open: () => Assignment[] = () => [],
    private readonly onPoll: (n: number) => void = () => undefined,
  ) {}

  /** A long poll with nothing scripted waits until the agent stops, like a feed with no new work. */
  async poll({ since, waitS, signal }: PollRequest): Promise<Assignment[]> {
    this.requests.push({ since, waitS });
    this.onPoll(this.requests.length);
    const next = this.script.shift();
    if (next) return next;
    if (waitS > 0 && !signal.aborted)
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    return this.open();
  }
}

/** A ledger in memory: every task starts assigned under its transaction; complete closes it once. */
export class FakeApi implements SchedulerApi {
  readonly states = new Map<string, TaskState>();
  readonly completions: string[] = [];
  /** Queued failures for the next complete calls. */
  readonly failNext: Error[] = [];

  assign(...assignments: Assignment[]): void {
    for (const a of assignments)
      this.states.set(a.taskId, { status: 'assigned', transactionId: a.transactionId });
  }

  open(all: Assignment[]): Assignment[] {
    return all.filter((a) => this.states.get(a.taskId)?.status === 'assigned');
  }

  async taskState(taskId: string): Promise<TaskState | null> {
    return this.states.get(taskId) ?? null;
  }

  async complete(taskId: string): Promise<ReportResult> {
    this.completions.push(taskId);
    const failure = this.failNext.shift();
    if (failure) throw failure;
    const state = this.states.get(taskId);
    if (!state) return 'unknown';
    if (state.status !== 'assigned') return 'already-final';
    this.states.set(taskId, { status: 'completed', transactionId: `done-${taskId}` });
    return 'closed';
  }
}

/** An executor whose runs end when the test says so; counts runs per transaction and concurrency. */
export class ControlledExecutor implements Executor {
  readonly runs: string[] = [];
  readonly contexts: RunContext[] = [];
  maxConcurrent = 0;
  private active = 0;
  private readonly pending = new Map<string, (outcome: RunOutcome) => void>();
  /** When set, every run ends at once with this outcome. */
  constructor(private readonly immediate: RunOutcome | null = { kind: 'simulated' }) {}

  run(a: Assignment, context: RunContext): Promise<RunOutcome> {
    this.runs.push(a.transactionId);
    this.contexts.push(context);
    this.active++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.active);
    const done = (outcome: RunOutcome) => {
      this.active--;
      return outcome;
    };
    if (this.immediate) return Promise.resolve(done(this.immediate));
    return new Promise((resolve) => {
      this.pending.set(a.transactionId, (outcome) => resolve(done(outcome)));
      context.abort.addEventListener('abort', () =>
        this.finish(a.transactionId, { kind: 'interrupted', output: '', truncated: false }),
      );
    });
  }

  get running(): string[] {
    return [...this.pending.keys()];
  }

  finish(transactionId: string, outcome: RunOutcome = { kind: 'simulated' }): void {
    const resolve = this.pending.get(transactionId);
    this.pending.delete(transactionId);
    resolve?.(outcome);
  }
}

/** Sleep that returns at once and moves the clock, recording each wait. */
export function fakeSleep(clock: ManualClock): Sleep & { waits: number[] } {
  const waits: number[] = [];
  const sleep = async (ms: number) => {
    waits.push(ms);
    clock.advance(ms);
  };
  return Object.assign(sleep, { waits });
}

export interface LogLine {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

export function memoryLog(): AgentLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log: AgentLog = (level, msg, fields = {}) => {
    lines.push({ level, msg, fields });
  };
  return Object.assign(log, { lines });
}

export function clockAt(ms = T0): ManualClock {
  return new ManualClock(ms);
}

/** Lets pending promise callbacks run (the agent's loop and its tasks). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export type { Agent };
