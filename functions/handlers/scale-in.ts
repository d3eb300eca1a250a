import * as z from 'zod';
import { TERMINATE_ACTION_DETAIL_TYPE } from '../../lib/adapters/autoscaling/termination-lifecycle';
import { parseOrThrow } from '../../lib/errors';
import type { LogSink } from '../../lib/ports/observability';
import type { TerminatingInstance, TerminationLifecycle } from '../../lib/ports/scaling';
import {
  settleTerminations,
  type TerminationDeps,
  type TerminationOutcome,
} from '../../lib/scaling/termination';
import { tableEnvSchema } from '../shared/config';

/** The lifecycle hook's function: the ledger table, the group and its hook, the settle time. */
export const scaleInEnvSchema = tableEnvSchema.extend({
  AUTO_SCALING_GROUP_NAME: z.string().min(1).max(255),
  LIFECYCLE_HOOK_NAME: z.string().min(1).max(255),
  /** Fleet cache TTL + the scheduler's timeout: how long after a drain a placement may still commit. */
  SETTLE_SECONDS: z.coerce.number().int().min(0).max(600),
});
export type ScaleInEnv = z.output<typeof scaleInEnvSchema>;

const lifecycleEventSchema = z.object({
  source: z.literal('aws.autoscaling'),
  'detail-type': z.literal(TERMINATE_ACTION_DETAIL_TYPE),
  detail: z.object({
    LifecycleActionToken: z.string().min(1).max(36).optional(),
    AutoScalingGroupName: z.string().min(1).max(255),
    LifecycleHookName: z.string().min(1).max(255),
    EC2InstanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/, 'not an EC2 instance id'),
    LifecycleTransition: z.literal('autoscaling:EC2_INSTANCE_TERMINATING'),
  }),
});
const scheduledEventSchema = z.object({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});
const eventSchema = z.union([lifecycleEventSchema, scheduledEventSchema]);

export interface ScaleInHandlerDeps {
  env: Pick<ScaleInEnv, 'AUTO_SCALING_GROUP_NAME' | 'LIFECYCLE_HOOK_NAME' | 'SETTLE_SECONDS'>;
  lifecycle: TerminationLifecycle;
  termination: Omit<TerminationDeps, 'lifecycle' | 'settleMs'>;
  logger: LogSink;
}

/**
 * Two triggers, one rule (lib/scaling/termination.ts). The hook's lifecycle event settles its
 * instance at once; the one-minute schedule settles every instance the hook still holds (those that
 * held tasks, and any whose event was lost), heartbeating the ones that still hold tasks. A failure
 * throws: the event is retried by EventBridge, the schedule by the next minute, and an instance
 * nobody settles is terminated when the hook's heartbeat timeout ends (its tasks then expire with
 * their leases).
 */
export function scaleInHandler(deps: ScaleInHandlerDeps) {
  return async (raw: unknown): Promise<TerminationOutcome[]> => {
    const event = parseOrThrow(eventSchema, raw, 'scale-in event');
    let instances: TerminatingInstance[];
    if (event.source === 'aws.autoscaling') {
      const d = event.detail;
      if (
        d.AutoScalingGroupName !== deps.env.AUTO_SCALING_GROUP_NAME ||
        d.LifecycleHookName !== deps.env.LIFECYCLE_HOOK_NAME
      ) {
        deps.logger.warn('lifecycle event of another group or hook ignored', { detail: d });
        return [];
      }
      instances = [
        {
          instanceId: d.EC2InstanceId,
          groupName: d.AutoScalingGroupName,
          hookName: d.LifecycleHookName,
          ...(d.LifecycleActionToken === undefined ? {} : { token: d.LifecycleActionToken }),
        },
      ];
    } else {
      instances = await deps.lifecycle.waiting();
    }
    const outcomes = await settleTerminations(instances, {
      ...deps.termination,
      lifecycle: deps.lifecycle,
      settleMs: deps.env.SETTLE_SECONDS * 1000,
    });
    for (const outcome of outcomes) {
      deps.logger.info(
        outcome.action === 'released'
          ? 'terminating instance holds no task: released'
          : 'terminating instance still holds tasks: held',
        { ...outcome },
      );
    }
    return outcomes;
  };
}
