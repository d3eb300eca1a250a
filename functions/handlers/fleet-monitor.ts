import type { ScheduledEvent } from 'aws-lambda';
import * as z from 'zod';
import type { LogSink } from '../../lib/ports/observability';
import {
  type FleetMonitorDeps,
  FleetMonitorError,
  type FleetMonitorReport,
  runFleetMonitor,
} from '../../lib/scaling/monitor';
import { schedulerEnvSchema } from '../shared/config';

/**
 * The fleet monitor's configuration: the scheduler's (table, fleet selection, dimensions) plus the
 * queue it measures, where the metrics go and, when the fleet is an Auto Scaling group, its name.
 */
export const fleetMonitorEnvSchema = schedulerEnvSchema.extend({
  QUEUE_URL: z.url(),
  /** Set by ServiceFunction for every function of the stack. */
  POWERTOOLS_METRICS_NAMESPACE: z.string().min(1).max(255),
  /** Value of the Fleet dimension: the stack's name, so deployments sharing an account never mix. */
  FLEET_NAME: z.string().min(1).max(255),
  AUTO_SCALING_GROUP_NAME: z.string().min(1).max(255).optional(),
});

export type FleetMonitorEnv = z.output<typeof fleetMonitorEnvSchema>;

export interface FleetMonitorHandlerDeps {
  monitor: FleetMonitorDeps;
  logger: LogSink;
}

/**
 * Runs on a one-minute EventBridge schedule (the resolution of a standard CloudWatch metric and of
 * target tracking). A failed half throws after the other half ran, so the invocation counts as an
 * error (the Lambda Errors metric); the next minute's run is the retry (a late one would publish
 * stale figures).
 */
export function fleetMonitorHandler(deps: FleetMonitorHandlerDeps) {
  return async (_event: ScheduledEvent): Promise<FleetMonitorReport> => {
    try {
      const report = await runFleetMonitor(deps.monitor);
      deps.logger.info('fleet measured', { ...report });
      return report;
    } catch (error) {
      if (error instanceof FleetMonitorError) {
        deps.logger.error('fleet monitor run incomplete', { error, ...error.report });
      }
      throw error;
    }
  };
}
