import type { EventBridgeEvent } from 'aws-lambda';
import * as z from 'zod';
import { isFinalCommandStatus } from '../../lib/dispatch/command';
import { type QueuedCompletion, queueCompletion } from '../../lib/engine/completions';
import { parseOrThrow } from '../../lib/errors';
import type { CompletionSender } from '../../lib/ports/completion-sender';
import type { DispatchRecords } from '../../lib/ports/dispatcher';
import type { LedgerStore } from '../../lib/ports/ledger-store';
import type { LogSink, MetricSink } from '../../lib/ports/observability';

export interface CommandStatusDeps {
  /** The task's record is read first: an unknown or final task is not queued. */
  tasks: Pick<LedgerStore, 'getTask'>;
  /** The completion queue: the lease closer records the completion (this function may not write the chain). */
  completions: CompletionSender;
  records: Pick<DispatchRecords, 'taskOfCommand'>;
  logger: LogSink;
  metrics: MetricSink;
}

/** The detail of 'EC2 Command Invocation Status-change Notification' (one instance's invocation). */
const invocationDetailSchema = z.object({
  'command-id': z.string().min(1).max(64),
  'instance-id': z.string().min(1).max(128),
  status: z.string().min(1).max(64),
});

export type CommandStatusResult =
  | { outcome: 'not-final'; status: string }
  /** No command id recorded by the dispatcher: not ours (or its id was never recorded). */
  | { outcome: 'unknown-command'; commandId: string }
  | { outcome: QueuedCompletion['status']; taskId: string; commandId: string; status: string };

/**
 * SSM reports each invocation's status changes on the default bus; once a dispatched command has
 * stopped running (Success, Failed, TimedOut, ...) its task's completion is queued for the lease
 * closer, which records it and so frees its share of the VM. Recording is the engine's conditional
 * close: a duplicate event, a late one after lease expiry, or two invocations racing, change the
 * ledger once at most. Whether the command succeeded is logged and counted; the ledger records that
 * the assignment ended.
 */
export function commandStatusHandler(deps: CommandStatusDeps) {
  return async (event: EventBridgeEvent<string, unknown>): Promise<CommandStatusResult> => {
    const detail = parseOrThrow(invocationDetailSchema, event.detail, 'command status event');
    const commandId = detail['command-id'];
    const result = await settle(deps, commandId, detail.status);
    deps.metrics.addMetric('CommandStatusEvents', 'Count', 1);
    if (result.outcome === 'accepted') {
      deps.metrics.addMetric(
        detail.status === 'Success' ? 'CommandsSucceeded' : 'CommandsUnsuccessful',
        'Count',
        1,
      );
    }
    deps.metrics.publishStoredMetrics();
    deps.logger.info('command status', { ...result, instanceId: detail['instance-id'] });
    return result;
  };
}

async function settle(
  deps: CommandStatusDeps,
  commandId: string,
  status: string,
): Promise<CommandStatusResult> {
  if (!isFinalCommandStatus(status)) return { outcome: 'not-final', status };
  const taskId = await deps.records.taskOfCommand(commandId);
  if (taskId === null) return { outcome: 'unknown-command', commandId };
  const queued = await queueCompletion(
    { tasks: deps.tasks, sender: deps.completions },
    { task_id: taskId, body: {} },
    'command-status',
  );
  return { outcome: queued.status, taskId, commandId, status };
}
