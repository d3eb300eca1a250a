import type { Task } from '../model/task';

export interface QueuedTask {
  task: Task;
  /** Opaque handle for ack/nack (SQS receipt handle, row id, ...). */
  receipt: string;
  /** How many times this task has been received, 1 on first delivery. */
  attempts: number;
  /**
   * Set when the task was already delivered the queue's maximum number of times without an ack (the
   * consumer died or timed out holding it each time): the consumer records it as rejected instead
   * of trying it again, so it ends in the ledger rather than silently in a dead-letter table.
   */
  exhausted?: boolean;
}

/**
 * The queue between intake and the scheduler. At-least-once: a received task that is not acked
 * is delivered again; the ledger's task records make redelivery harmless.
 */
export interface TaskQueue {
  /** Enqueue; returns the ids accepted. Idempotent by task id while the task is queued. */
  enqueue(tasks: Task[]): Promise<string[]>;
  receive(max: number): Promise<QueuedTask[]>;
  ack(receipts: string[]): Promise<void>;
  /**
   * Make the tasks visible again (not placed this time), after `delayMs` (default 0): a task waiting
   * for capacity is released with a delay so the scheduler does not spin on it. A delayed release is
   * a postponement, not a failed delivery: implementations do not count it towards dead-lettering.
   */
  release(receipts: string[], delayMs?: number): Promise<void>;
  /**
   * Tasks in the queue: visible, delayed (released with a delay) and in flight (received, not yet
   * acked). The backlog an autoscaler reads; cheap enough to call on every tick.
   */
  depth(): Promise<number>;
}
