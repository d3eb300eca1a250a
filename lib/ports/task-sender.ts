import type { Task } from '../model/task';

export interface SendResult {
  /** Task ids the queue accepted. */
  sent: string[];
  /** Task ids the queue refused after its retries, with its reason. */
  failed: { id: string; reason: string }[];
}

/** Publishes tasks to the task queue. The port the enqueue handler depends on. */
export interface TaskSender {
  send(tasks: readonly Task[]): Promise<SendResult>;
}
