/** One task-queue message to move to the dead-letter queue, with why it can never be scheduled. */
export interface DeadLetter {
  /** The SQS message id of the original record; results are reported by it. */
  messageId: string;
  /** The original body, forwarded unchanged so the message can be redriven as it was. */
  body: string;
  taskId: string;
  /** The ledger transaction that records the rejection. */
  transactionId: string;
  reason: string;
}

/** Forwards dead letters; reports by message id those that did not reach the queue. */
export interface DeadLetterSender {
  send(letters: readonly DeadLetter[]): Promise<{ failed: { messageId: string; reason: string }[] }>;
}
