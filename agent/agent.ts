import { setMaxListeners } from 'node:events';
import { backoffDelay } from '../lib/engine/backoff';
import type { TaskOutcome } from '../lib/ledger/types';
import {
  type Assignment,
  type AssignmentSource,
  PermanentError,
  type Settlement,
  TransientError,
} from '../lib/ports/assignment-source';
import type { Clock } from '../lib/ports/clock';
import type { Executor, RunOutcome, Sleep } from './executor';
import type { AgentLog } from './log';
import { type ReporterOptions, reportCompletion } from './reporter';
import type { SchedulerApi } from './scheduler-api';

export interface AgentOptions {
  vmId: string;
  source: AssignmentSource;
  api: SchedulerApi;
  executor: Executor;
  clock: Clock;
  sleep: Sleep;
  log: AgentLog;
  /** Assignments run at once. */
  concurrency: number;
  /** Long-poll wait when there is nothing new to run, seconds. */
  waitS: number;
  /** Run what is open now, then return instead of waiting for more. */
  once: boolean;
  reporter?: ReporterOptions;
}

export interface AgentSummary {
  /** Assignments whose run began. */
  started: number;
  /** Completions the ledger recorded (or, on AWS, accepted for recording) from this agent's reports. */
  completed: number;
  /** Reports answered already-final or unknown: the ledger had closed the task by another path. */
  already_final: number;
  /** Assignments not run: the ledger no longer holds them as assigned, or the lease was over. */
  skipped: number;
  /** Runs cut off at the lease end (left to lease expiry). */
  timed_out: number;
  /** Runs that ended without a report: interrupted, not started, or every report attempt failed. */
  unreported: number;
}

/** Poll failures in a row after which --once gives up. */
const ONCE_MAX_POLL_FAILURES = 5;

/**
 * Runs the assignments of one VM. Each assignment runs at most once per agent process (dedupe by
 * transaction id) and only while the ledger still holds it as assigned under that transaction, so a
 * restarted agent skips what it already completed; a task killed with its agent mid-run is run again
 * by the next agent if its lease has not ended (execution is at least once, the ledger's completion
 * exactly once). A finished run is reported with retries; a run cut off at the lease end is not
 * reported and the ledger's lease expiry records it.
 */
export class Agent {
  readonly summary: AgentSummary = {
    started: 0,
    completed: 0,
    already_final: 0,
    skipped: 0,
    timed_out: 0,
    unreported: 0,
  };
  /** Transaction ids taken (running, done or skipped) and still listed by the source. */
  private readonly seen = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();
  private readonly killing = new AbortController();
  private since = -1;

  constructor(private readonly options: AgentOptions) {
    if (!(Number.isInteger(options.concurrency) && options.concurrency >= 1)) {
      throw new RangeError(`concurrency must be an integer >= 1, got ${options.concurrency}`);
    }
    // Every running task listens on these; Node warns (on stderr, between the JSON lines) past 10.
    setMaxListeners(options.concurrency + 10, this.stopping.signal, this.killing.signal);
  }

  /** Takes no new work; running tasks finish and are reported. A second call cuts them off. */
  stop(): void {
    if (this.stopping.signal.aborted) {
      this.killing.abort();
      return;
    }
    this.options.log('info', 'stopping: finishing running tasks', {
      vm_id: this.options.vmId,
      running: this.running.size,
    });
    this.stopping.abort();
  }

  async run(): Promise<AgentSummary> {
    const { source, concurrency, waitS, once, log, vmId } = this.options;
    const stop = this.stopping.signal;
    /** Listed, not yet taken: run before asking again (relisting for every free slot is quadratic). */
    let backlog: Assignment[] = [];
    let failures = 0;
    log('info', 'agent started', { vm_id: vmId, concurrency, once });
    while (!stop.aborted) {
      if (this.running.size >= concurrency) {
        await this.untilOneFinishes();
        continue;
      }
      const next = backlog.shift();
      if (next) {
        if (!this.seen.has(next.transactionId)) this.launch(next);
        continue;
      }
      let batch: Assignment[];
      try {
        batch = await source.poll({
          since: this.since,
          waitS: once ? 0 : waitS,
          max: concurrency - this.running.size,
          signal: stop,
        });
        failures = 0;
      } catch (error) {
        if (stop.aborted) break;
        failures++;
        const fatal = error instanceof PermanentError;
        log(fatal ? 'error' : 'warn', 'poll failed', {
          vm_id: vmId,
          error: (error as Error).message,
          failures,
        });
        if (once && (fatal || failures >= ONCE_MAX_POLL_FAILURES)) {
          await Promise.allSettled(this.running.values());
          throw error;
        }
        await this.options.sleep(backoffDelay(failures, { baseMs: 500, capMs: 15_000 }), stop);
        continue;
      }
      for (const a of batch) this.since = Math.max(this.since, a.blockHeight);
      const listed = new Set(batch.map((a) => a.transactionId));
      for (const id of this.seen) if (!listed.has(id) && !this.running.has(id)) this.seen.delete(id);
      const offered = [...new Map(batch.map((a) => [a.transactionId, a])).values()];
      backlog = offered.filter((a) => !this.seen.has(a.transactionId));
      // Offered again after the agent finished with it: a delivering source (SQS) redelivered it, and
      // must be told it is done, or that copy is never deleted and comes back after every visibility
      // timeout, skipped each time (it is in `seen`). A listing source has no settle and relists
      // until the ledger closes the task, which is what `seen` is for.
      for (const a of offered) {
        if (this.seen.has(a.transactionId) && !this.running.has(a.transactionId)) {
          await source
            .settle?.(a, 'done')
            .catch((error) =>
              log('warn', 'could not settle with the source', { ...ids(a), error: String(error) }),
            );
        }
      }
      if (once && backlog.length === 0) {
        if (this.running.size === 0) break;
        await this.untilOneFinishes();
      }
    }
    // Received but never started (the agent was stopped): handed back at once, so that the next
    // agent does not wait out a delivering source's visibility timeout for them.
    for (const a of backlog) {
      if (this.seen.has(a.transactionId)) continue;
      await source
        .settle?.(a, 'retry')
        .catch((error) =>
          log('warn', 'could not settle with the source', { ...ids(a), error: String(error) }),
        );
    }
    await Promise.allSettled(this.running.values());
    log('info', 'agent stopped', { vm_id: vmId, ...this.summary });
    return this.summary;
  }

  private untilOneFinishes(): Promise<unknown> {
    return Promise.race(this.running.values());
  }

  private launch(a: Assignment): void {
    this.seen.add(a.transactionId);
    const { source, log } = this.options;
    const run = this.handle(a)
      .catch((error): Settlement => {
        this.summary.unreported++;
        log('error', 'task failed in the agent', { ...ids(a), error: (error as Error).message });
        return 'done';
      })
      .then((how) => source.settle?.(a, how))
      .catch((error) => log('warn', 'could not settle with the source', { ...ids(a), error: String(error) }))
      .finally(() => this.running.delete(a.transactionId));
    this.running.set(a.transactionId, run);
  }

  /** 'retry' when it is unsure whether the assignment is still this VM's (the ledger did not answer). */
  private async handle(a: Assignment): Promise<Settlement> {
    const { api, executor, clock, log } = this.options;
    let state: Awaited<ReturnType<SchedulerApi['taskState']>>;
    try {
      state = await api.taskState(a.taskId);
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof TransientError) {
        // Unsure whether it is still ours: a later listing offers it again.
        this.seen.delete(a.transactionId);
        log('warn', 'ledger check failed; will retry', { ...ids(a), error: message });
        return 'retry';
      }
      this.summary.skipped++;
      log('error', 'task skipped: the ledger check was refused', { ...ids(a), error: message });
      return 'done';
    }
    if (state?.status !== 'assigned' || state.transactionId !== a.transactionId) {
      this.summary.skipped++;
      log('info', 'task skipped: the ledger no longer holds this assignment', {
        ...ids(a),
        ledger_status: state?.status ?? null,
        ledger_transaction_id: state?.transactionId ?? null,
      });
      return 'done';
    }
    const budgetMs = a.leaseExpiresAt - clock.now();
    if (budgetMs <= 0) {
      this.summary.skipped++;
      log('warn', 'task skipped: its lease is over', ids(a));
      return 'done';
    }
    this.summary.started++;
    const startedAt = clock.now();
    log('info', 'task started', { ...ids(a), has_command: a.command !== null, budget_ms: budgetMs });
    const outcome = await executor.run(a, { budgetMs, abort: this.killing.signal });
    log(outcome.kind === 'exited' || outcome.kind === 'simulated' ? 'info' : 'warn', 'task ended', {
      ...ids(a),
      ...outcomeFields(outcome),
      run_ms: clock.now() - startedAt,
    });
    if (outcome.kind !== 'exited' && outcome.kind !== 'simulated') {
      if (outcome.kind === 'timed-out') this.summary.timed_out++;
      else this.summary.unreported++;
      // Cut off by a forced stop while the lease still runs: another agent may take it up.
      return outcome.kind === 'interrupted' ? 'retry' : 'done';
    }
    const report = await reportCompletion(
      api,
      a.taskId,
      reportedOutcome(outcome, clock.now() - startedAt),
      this.options.sleep,
      this.options.reporter,
      (attempt, error, delayMs) =>
        log('warn', 'completion report failed; retrying', {
          ...ids(a),
          attempt,
          error,
          delay_ms: Math.round(delayMs),
        }),
    );
    if (!report.reported) {
      this.summary.unreported++;
      log('error', 'completion not reported; the lease will expire it', {
        ...ids(a),
        attempts: report.attempts,
        error: report.error,
      });
      return 'done';
    }
    if (report.result === 'closed' || report.result === 'accepted') this.summary.completed++;
    else this.summary.already_final++;
    log('info', 'completion reported', { ...ids(a), result: report.result, attempts: report.attempts });
    return 'done';
  }
}

/** SHA-256 of no bytes: the output of a simulated run. */
const EMPTY_OUTPUT_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** What the ledger records of a run that ended by itself (docs/ledger-format.md 2.5). */
export function reportedOutcome(
  outcome: Extract<RunOutcome, { kind: 'exited' | 'simulated' }>,
  runMs: number,
): TaskOutcome {
  const duration_ms = Math.max(0, Math.round(runMs));
  if (outcome.kind === 'simulated') {
    return { exit_code: 0, signal: null, duration_ms, output_sha256: EMPTY_OUTPUT_SHA256 };
  }
  // Node gives exactly one of the two; a code outside 0-255 cannot come from a POSIX wait status.
  return {
    exit_code: outcome.signal === null ? (outcome.exitCode ?? 0) : null,
    signal: outcome.signal,
    duration_ms,
    output_sha256: outcome.outputSha256,
  };
}

function ids(a: Assignment): Record<string, unknown> {
  return { task_id: a.taskId, transaction_id: a.transactionId, block_height: a.blockHeight };
}

function outcomeFields(outcome: RunOutcome): Record<string, unknown> {
  switch (outcome.kind) {
    case 'exited':
      return {
        outcome: 'exited',
        exit_code: outcome.exitCode,
        signal: outcome.signal,
        output: outcome.output,
        output_truncated: outcome.truncated,
      };
    case 'timed-out':
    case 'interrupted':
      return { outcome: outcome.kind, output: outcome.output, output_truncated: outcome.truncated };
    case 'failed-to-start':
      return { outcome: outcome.kind, error: outcome.error };
    case 'simulated':
      return { outcome: 'simulated' };
  }
}
