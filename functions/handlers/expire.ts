import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Engine } from '../../lib/engine/types';
import type { LogSink, MetricSink } from '../../lib/ports/observability';

export interface ExpireDeps {
  engine: () => Engine | Promise<Engine>;
  /** Most leases closed per invocation; the rest wait for the next tick. */
  limit: number;
  logger: LogSink;
  metrics: MetricSink;
}

export interface ExpireResult {
  expired: string[];
}

/**
 * Runs on an EventBridge schedule: writes an `expired` transaction for every assigned task whose
 * lease has run out, which releases its reservation. Without it a task nobody completes would hold
 * its VM's capacity for ever. A failure throws, so EventBridge retries the invocation; a lease closed
 * meanwhile by a completion is skipped by the engine's conditional write.
 */
export function expireHandler(deps: ExpireDeps) {
  return async (_event: ScheduledEvent): Promise<ExpireResult> => {
    const transactions = await (await deps.engine()).expireLeases(deps.limit);
    const expired = transactions.map((t) => t.task_id);
    deps.metrics.addMetric('LeasesExpired', 'Count', expired.length);
    deps.metrics.publishStoredMetrics();
    if (expired.length > 0) deps.logger.info('leases expired', { tasks: expired });
    return { expired };
  };
}

/**
 * The lease closer: the one function besides the scheduler that may write the chain. EventBridge
 * invokes it on the sweep schedule (expiry), the completion queue's event source with batches of
 * reported completions (functions/handlers/completions.ts).
 */
export function leaseCloserHandler(handlers: {
  expire: (event: ScheduledEvent) => Promise<ExpireResult>;
  completions: (event: SQSEvent) => Promise<SQSBatchResponse>;
}) {
  return (event: ScheduledEvent | SQSEvent): Promise<ExpireResult | SQSBatchResponse> =>
    'Records' in event ? handlers.completions(event) : handlers.expire(event);
}
