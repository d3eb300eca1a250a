/** One task-queue message to move to the dead-letter queue, with why it can never be scheduled. */
export interface DeadLetter {
  /** The SQS message id of the original record; results are reported by it. */
  messageId: string;
  /** The original body, forwarded unchanged so the message can be redriven as it was. */
  body: string;
  /** The task's id; absent for a message whose body is not a valid task message. */
  taskId?: string;
  /** The ledger transaction that records the rejection; absent when there is no valid task to record. */
  transactionId?: string;
  reason: string;
}

/** Forwards dead letters; reports by message id those that did not reach the queue. */
export interface DeadLetterSender {
  send(letters: readonly DeadLetter[]): Promise<{ failed: { messageId: string; reason: string }[] }>;
}
