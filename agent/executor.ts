import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Assignment } from '../lib/ports/assignment-source';

/** How running one assignment ended. */
export type RunOutcome =
  /** The command exited on its own (any code) or the simulated duration elapsed. */
  | {
      kind: 'exited';
      exitCode: number | null;
      signal: string | null;
      output: string;
      truncated: boolean;
      /** SHA-256 (hex) of every byte of stdout and stderr, in the order they arrived, kept or not. */
      outputSha256: string;
    }
  | { kind: 'simulated' }
  /** Killed at the lease end: the ledger expires the assignment, so it is not reported. */
  | { kind: 'timed-out'; output: string; truncated: boolean }
  /** Cut short because the agent was told to stop now (a second SIGTERM); not reported either. */
  | { kind: 'interrupted'; output: string; truncated: boolean }
  /** The command could not be started (no /bin/sh, ...). */
  | { kind: 'failed-to-start'; error: string };

export interface RunContext {
  /** Milliseconds left before the lease ends; the run is cut off then. */
  budgetMs: number;
  /** Aborted when the agent must stop at once: the run is cut off. */
  abort: AbortSignal;
}

export interface Executor {
  run(assignment: Assignment, context: RunContext): Promise<RunOutcome>;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });

/**
 * Without --allow-commands nothing from the network is executed: a task is simulated by sleeping
 * its duration divided by `speed` (like the runtime's simulated fleet), cut off at the lease end.
 */
export class SimulatedExecutor implements Executor {
  constructor(
    private readonly speed: number,
    private readonly sleep: Sleep = realSleep,
  ) {}

  async run(assignment: Assignment, { budgetMs, abort }: RunContext): Promise<RunOutcome> {
    const wantMs = (assignment.durationS * 1000) / this.speed;
    await this.sleep(Math.max(0, Math.min(wantMs, budgetMs)), abort);
    if (abort.aborted) return { kind: 'interrupted', output: '', truncated: false };
    if (wantMs > budgetMs) return { kind: 'timed-out', output: '', truncated: false };
    return { kind: 'simulated' };
  }
}

export interface CommandExecutorOptions {
  /** Bytes of stdout+stderr kept per task (anything after them is dropped). Default 64 KiB. */
  maxOutputBytes?: number;
  /** Grace between SIGTERM and SIGKILL at the lease end, ms. Default 2000. */
  killGraceMs?: number;
}

/**
 * --allow-commands: runs the task's command as `/bin/sh -c <command>` in its own process group (so
 * the lease-end kill reaches whatever the shell started), with no stdin and the agent's environment
 * minus the token. A task without a command is simulated by `fallback`.
 */
export class CommandExecutor implements Executor {
  private readonly maxOutput: number;
  private readonly killGraceMs: number;

  constructor(
    private readonly fallback: Executor,
    options: CommandExecutorOptions = {},
  ) {
    this.maxOutput = options.maxOutputBytes ?? 64 * 1024;
    this.killGraceMs = options.killGraceMs ?? 2000;
  }

  run(assignment: Assignment, context: RunContext): Promise<RunOutcome> {
    const { command } = assignment;
    if (command === null) return this.fallback.run(assignment, context);
    return new Promise((resolve) => {
      const env = { ...process.env };
      delete env.BCS_TOKEN;
      const child = spawn('/bin/sh', ['-c', command], {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
        env: {
          ...env,
          BCS_TASK_ID: assignment.taskId,
          BCS_TRANSACTION_ID: assignment.transactionId,
          // The GPUs the ledger gave the task, as CUDA numbers them; the agent's own setting otherwise.
          ...(assignment.devices === undefined ? {} : { CUDA_VISIBLE_DEVICES: assignment.devices.join(',') }),
        },
      });
      const chunks: Buffer[] = [];
      const digest = createHash('sha256');
      let kept = 0;
      let truncated = false;
      const collect = (chunk: Buffer) => {
        digest.update(chunk);
        if (kept >= this.maxOutput) {
          truncated = true;
          return;
        }
        const part = chunk.subarray(0, this.maxOutput - kept);
        if (part.length < chunk.length) truncated = true;
        chunks.push(part);
        kept += part.length;
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      let cutOff: 'timed-out' | 'interrupted' | null = null;
      let killTimer: NodeJS.Timeout | undefined;
      const cut = (why: 'timed-out' | 'interrupted') => {
        if (cutOff !== null) return;
        cutOff = why;
        signalGroup(child.pid, 'SIGTERM');
        killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), this.killGraceMs);
      };
      const leaseTimer = setTimeout(() => cut('timed-out'), Math.max(0, context.budgetMs));
      const onAbort = () => cut('interrupted');
      context.abort.addEventListener('abort', onAbort, { once: true });
      const settle = (outcome: RunOutcome) => {
        clearTimeout(leaseTimer);
        clearTimeout(killTimer);
        context.abort.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      child.once('error', (error) => settle({ kind: 'failed-to-start', error: error.message }));
      child.once('close', (exitCode, signal) => {
        const output = Buffer.concat(chunks).toString('utf8');
        settle(
          cutOff === null
            ? { kind: 'exited', exitCode, signal, output, truncated, outputSha256: digest.digest('hex') }
            : { kind: cutOff, output, truncated },
        );
      });
      if (context.abort.aborted) onAbort();
    });
  }
}

/** Signals the whole process group the shell leads; a group already gone is fine. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Exited between the timer and the kill.
  }
}
