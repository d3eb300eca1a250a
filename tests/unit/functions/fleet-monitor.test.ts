import { describe, expect, it } from 'vitest';
import { fleetMonitorEnvSchema, fleetMonitorHandler } from '../../../functions/handlers/fleet-monitor';
import { readEnv } from '../../../functions/shared/config';
import { ValidationError } from '../../../lib/errors';
import { FleetMonitorError, type ScalingSnapshot } from '../../../lib/scaling';
import { scheduledEvent } from './helpers/events';
import { DIMENSIONS, RecordingLogger, vm } from './helpers/fixtures';

const base = {
  TABLE_NAME: 'ledger',
  ALGORITHM: 'best-fit',
  VM_TAG_KEY: 'bcs:pool',
  VM_TAG_VALUE: 'workers',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tasks',
  POWERTOOLS_METRICS_NAMESPACE: 'BlockchainCloudScheduler',
  FLEET_NAME: 'prod',
};

describe('fleet monitor configuration', () => {
  it('takes the group name as optional', () => {
    expect(readEnv(fleetMonitorEnvSchema, base).AUTO_SCALING_GROUP_NAME).toBeUndefined();
    expect(
      readEnv(fleetMonitorEnvSchema, { ...base, AUTO_SCALING_GROUP_NAME: 'g' }).AUTO_SCALING_GROUP_NAME,
    ).toBe('g');
  });

  it.each([
    [{ QUEUE_URL: 'tasks' }, 'QUEUE_URL'],
    [{ FLEET_NAME: '' }, 'FLEET_NAME'],
    [{ POWERTOOLS_METRICS_NAMESPACE: undefined }, 'POWERTOOLS_METRICS_NAMESPACE'],
    [{ AUTO_SCALING_GROUP_NAME: '' }, 'AUTO_SCALING_GROUP_NAME'],
  ])('refuses %o naming %s', (override, field) => {
    const error = (() => {
      try {
        readEnv(fleetMonitorEnvSchema, { ...base, ...override });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual([field]);
  });
});

describe('fleetMonitorHandler', () => {
  const monitor = (publish: (s: ScalingSnapshot) => Promise<void>) => ({
    fleet: { listVms: async () => [vm('i-a', { cpu: 1000, mem: 1000, io: 1, bw: 1 })] },
    store: { getReservations: async () => [] },
    backlog: { backlog: async () => 4 },
    metrics: { publish },
    dimensions: DIMENSIONS,
    now: () => 0,
  });

  it('logs the figures it published', async () => {
    const logger = new RecordingLogger();
    const report = await fleetMonitorHandler({ monitor: monitor(async () => {}), logger })(scheduledEvent());
    expect(report.snapshot.backlogPerInstance).toBe(4);
    expect(logger.at('info')).toEqual([{ level: 'info', message: 'fleet measured', extra: [{ ...report }] }]);
  });

  it('logs and rethrows a failed run, so the invocation counts as an error and is retried', async () => {
    const logger = new RecordingLogger();
    const handler = fleetMonitorHandler({
      monitor: monitor(async () => {
        throw new Error('throttled');
      }),
      logger,
    });
    await expect(handler(scheduledEvent())).rejects.toBeInstanceOf(FleetMonitorError);
    expect(logger.at('error').map((e) => e.message)).toEqual(['fleet monitor run incomplete']);
  });
});
