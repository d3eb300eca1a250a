import type { DeadLetterSender } from '../ports/dead-letter-sender';
import type { LedgerStore, TaskRecord } from '../ports/ledger-store';
import type { LogSink, MetricSink } from '../ports/observability';
import {
  accountForEach,
  applyLastDeliveryRejection,
  collectDeliveries,
  type Delivery,
  type DeliveryBatch,
  type DeliveryOutcome,
  exhaustedQueueReason,
  failEach,
  type InvalidDelivery,
  lastDeliveryRejections,
  outcomeCounts,
  redeliverUnforwarded,
  settleDeliveries,
  type TaskOutcome,
  taskOutcomes,
} from './settlement';
import type { Engine, ScheduleOutcome } from './types';

export interface QueueBatchDeps {
  /** The engine, built on first use and kept for the warm container. */
  engine: () => Engine | Promise<Engine>;
  logger: LogSink;
  metrics: MetricSink;
  /** Where deliveries whose task is recorded as rejected are forwarded before they are acknowledged. */
  deadLetters: DeadLetterSender;
  /** The queue's maxReceiveCount: a delivery received this many times is its last. */
  maxReceiveCount: number;
  /**
   * Where a redelivered, already rejected task's reason is read from (its block), for the DLQ
   * attribute. Without it the attribute names the block, and the transaction holds the reason.
   */
  blocks?: Pick<LedgerStore, 'getBlock'>;
}

/**
 * Settles one batch of an at-least-once queue with a redrive target (SQS): one `engine.schedule`
 * call for the batch's tasks (each once), rejection on the last delivery, dead letters forwarded,
 * metrics counted. The policy is lib/engine/settlement.ts; this drives the ports around it.
 * `exhausted` marks a batch from the redrive target: its tasks are recorded as rejected, not tried.
 * Returns each delivery's outcome by id; the caller acknowledges the settled ones.
 */
export async function settleQueueBatch(
  deps: QueueBatchDeps,
  entries: readonly (Delivery | InvalidDelivery)[],
  exhausted: boolean,
): Promise<Map<string, DeliveryOutcome>> {
  const batch = collectDeliveries(entries);
  const outcomes = exhausted ? await recordExhausted(deps, batch) : await decide(deps, batch);
  const counts = outcomeCounts(outcomes.values());
  deps.metrics.addMetric('TasksAssigned', 'Count', counts.assigned);
  deps.metrics.addMetric('TasksRejected', 'Count', counts.rejected);
  deps.metrics.addMetric('TasksDuplicate', 'Count', counts.duplicate);
  deps.metrics.addMetric('TasksDeferred', 'Count', counts.deferred);
  deps.metrics.addMetric('InvalidMessages', 'Count', batch.invalid.length);
  const { byDelivery, letters } = settleDeliveries(batch, outcomes, exhausted);
  if (letters.length > 0) {
    let failed: { messageId: string; reason: string }[];
    try {
      ({ failed } = await deps.deadLetters.send(letters));
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      failed = letters.map((l) => ({ messageId: l.messageId, reason }));
    }
    redeliverUnforwarded(byDelivery, failed);
    if (failed.length > 0) {
      deps.logger.error('could not forward rejected tasks to the DLQ; they will be redelivered', { failed });
    }
    deps.metrics.addMetric('DeadLettersForwarded', 'Count', letters.length - failed.length);
  }
  const redelivered = [...byDelivery.values()].filter((o) => o.kind !== 'settled').length;
  deps.metrics.addMetric('RecordsRedelivered', 'Count', redelivered);
  return byDelivery;
}

/** Outcomes of an engine answer, with the ledger's own reason for a rejection an earlier delivery recorded. */
async function outcomesWithReasons(
  deps: QueueBatchDeps,
  result: ScheduleOutcome,
): Promise<Map<string, TaskOutcome>> {
  const decided = taskOutcomes(result);
  for (const record of result.recorded ?? []) {
    const o = decided.get(record.task_id);
    if (o?.kind === 'rejected' && o.redelivered) o.reason = await recordedReason(deps, record, o.reason);
  }
  return decided;
}

/** The reason the ledger gives for an earlier rejection, or `fallback` if it cannot be read. */
async function recordedReason(deps: QueueBatchDeps, record: TaskRecord, fallback: string): Promise<string> {
  if (!deps.blocks) return fallback;
  try {
    const block = await deps.blocks.getBlock(record.block_height);
    const tx = block?.transactions.find((t) => t.transaction_id === record.transaction_id);
    return tx?.reason ?? fallback;
  } catch (err) {
    deps.logger.warn('could not read the recorded rejection reason', { taskId: record.task_id, error: err });
    return fallback;
  }
}

/**
 * Deliveries moved off the task queue after maxReceiveCount: the last-delivery rejection failed, so
 * no decision is recorded. Each task is recorded as rejected now (a duplicate when an earlier attempt
 * did commit after all). If the store is still unavailable they stay on the exhausted queue,
 * delivered again until the commit succeeds: an accepted task ends in the ledger or stays queued,
 * never in the DLQ alone.
 */
async function recordExhausted(
  deps: QueueBatchDeps,
  batch: DeliveryBatch,
): Promise<Map<string, TaskOutcome>> {
  if (batch.tasks.length === 0) return new Map();
  const reason = exhaustedQueueReason(deps.maxReceiveCount);
  try {
    const engine = await deps.engine();
    if (!engine.reject) throw new Error('this engine cannot record rejections');
    const result = await engine.reject(batch.tasks, reason);
    const outcomes = accountForEach(
      batch.tasks,
      await outcomesWithReasons(deps, result),
      'the engine returned no decision',
    );
    deps.logger.warn('recorded as rejected after the task queue gave up on them', {
      taskIds: batch.tasks.map((t) => t.id),
      rejected: result.decisions.map((d) => d.task.id),
      reason,
    });
    return outcomes;
  } catch (err) {
    deps.logger.error('could not record tasks the task queue gave up on; they stay queued', {
      taskIds: batch.tasks.map((t) => t.id),
      error: err,
    });
    return failEach(batch.tasks, err);
  }
}

async function decide(deps: QueueBatchDeps, batch: DeliveryBatch): Promise<Map<string, TaskOutcome>> {
  const { tasks } = batch;
  if (tasks.length === 0) return new Map();
  let outcomes: Map<string, TaskOutcome>;
  try {
    const engine = await deps.engine();
    const result = await engine.schedule(tasks);
    outcomes = accountForEach(
      tasks,
      await outcomesWithReasons(deps, result),
      'the engine returned no decision for this task',
    );
    deps.logger.info('batch scheduled', {
      records: batch.deliveries.length,
      tasks: tasks.length,
      blocks: result.blocks.map((b) => b.height),
      head: result.head,
      attempts: result.attempts,
      // One entry per committed transaction, so a task's decision is found in the logs by either id.
      decisions: result.blocks.flatMap((b) =>
        b.transactions.map((t) => ({
          taskId: t.task_id,
          transactionId: t.transaction_id,
          status: t.status,
          vmId: t.vm_id,
          height: b.height,
        })),
      ),
    });
    deps.metrics.addMetric('CompareAndSetAttempts', 'Count', result.attempts);
    // Instances the engine left out (unreadable metadata or metrics, or a record it refuses): the
    // batch was scheduled on the rest; say which and why, every batch, so an alarm can follow it.
    const quarantined = result.quarantined ?? [];
    deps.metrics.addMetric('VmsQuarantined', 'Count', quarantined.length);
    if (quarantined.length > 0) deps.logger.warn('VMs quarantined: not placed on', { quarantined });
  } catch (err) {
    deps.logger.error('schedule failed; the batch will be redelivered', { error: err });
    outcomes = failEach(tasks, err);
  }
  await rejectOnLastDelivery(deps, batch, outcomes);
  const deferred = tasks.filter((t) => outcomes.get(t.id)?.kind === 'deferred').map((t) => t.id);
  if (deferred.length > 0) {
    deps.logger.info('tasks deferred: no VM has the room free now; SQS delivers them again', {
      taskIds: deferred,
    });
  }
  return outcomes;
}

/** Records the tasks still unsettled on their last delivery as rejected, before they leave the queue. */
async function rejectOnLastDelivery(
  deps: QueueBatchDeps,
  batch: DeliveryBatch,
  outcomes: Map<string, TaskOutcome>,
): Promise<void> {
  for (const [reason, last] of lastDeliveryRejections(batch, outcomes, deps.maxReceiveCount)) {
    const taskIds = last.map((t) => t.id);
    try {
      const engine = await deps.engine();
      if (!engine.reject) throw new Error('this engine cannot record rejections');
      const result = await engine.reject(last, reason);
      applyLastDeliveryRejection(batch, outcomes, result);
      deps.logger.warn('recorded as rejected on the last delivery', {
        taskIds,
        reason,
        rejected: result.decisions.map((d) => d.task.id),
      });
    } catch (err) {
      deps.logger.error(
        'could not record the rejection; SQS moves the messages to the exhausted queue, where they are recorded',
        { taskIds, reason, error: err },
      );
    }
  }
}
