import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { Ec2FleetSource } from '../../lib/adapters/aws/ec2-fleet-source';
import { chainStarted } from '../../lib/adapters/dynamodb/chain-started';
import { maxTasksPerCommit } from '../../lib/adapters/dynamodb/commit-plan';
import { DynamoDbDispatchRecords } from '../../lib/adapters/dynamodb/dispatch-records';
import { DynamoDbLedgerStore } from '../../lib/adapters/dynamodb/dynamodb-ledger-store';
import { SpecRecordingEngine } from '../../lib/dispatch/spec-recording-engine';
import { SchedulingEngine } from '../../lib/engine/engine';
import type { Engine } from '../../lib/engine/types';
import { systemClock } from '../../lib/ports/clock';
import type { SchedulerEnv, TableEnv } from './config';

/**
 * Builds the real adapters from validated configuration. Called at module scope by the entry
 * files, so clients, the fleet cache and the engine live as long as the warm container.
 */

/** `readOnly`: for functions that may not write the chain (they never write genesis either). */
export function ledgerStore(
  env: TableEnv,
  client = new DynamoDBClient({}),
  options: { readOnly?: boolean } = {},
): DynamoDbLedgerStore {
  return new DynamoDbLedgerStore({
    client,
    tableName: env.TABLE_NAME,
    leaseIndexName: env.LEASE_INDEX_NAME,
    ...(options.readOnly ? { readOnly: true } : {}),
  });
}

/** Whether the table holds a chain head yet, read without the store (which would write genesis). */
export function ledgerStarted(env: TableEnv, client = new DynamoDBClient({})): () => Promise<boolean> {
  return chainStarted(client, env.TABLE_NAME);
}

export function fleetSource(env: SchedulerEnv): Ec2FleetSource {
  return new Ec2FleetSource({
    ec2: new EC2Client({}),
    cloudWatch: new CloudWatchClient({}),
    selector: { key: env.VM_TAG_KEY, value: env.VM_TAG_VALUE },
    dimensions: env.DIMENSIONS,
    historyWindow: env.HISTORY_WINDOW,
    periodSeconds: env.METRICS_PERIOD_SECONDS,
    cacheTtlMs: Math.round(env.FLEET_CACHE_TTL_SECONDS * 1000),
    clock: systemClock,
  });
}

export function schedulingEngine(env: SchedulerEnv, store = ledgerStore(env)): SchedulingEngine {
  return new SchedulingEngine({
    store,
    fleet: fleetSource(env),
    clock: systemClock,
    algorithm: env.ALGORITHM,
    params: { alpha: env.ALPHA, beta: env.BETA, tau: env.TAU, historyWindow: env.HISTORY_WINDOW },
    dimensions: env.DIMENSIONS,
    blockSize: env.BLOCK_SIZE,
    leaseGraceSeconds: env.LEASE_GRACE_SECONDS,
    maxTasksPerCommit: maxTasksPerCommit(env.BLOCK_SIZE),
    maxWaitSeconds: env.MAX_WAIT_SECONDS,
  });
}

/**
 * With dispatch on, the scheduler records each task's command and labels (DISPATCH#SPEC# items)
 * before deciding it: the ledger keeps neither, and the dispatcher reads them from there.
 */
export function withTaskSpecs(env: TableEnv, engine: Engine, client = new DynamoDBClient({})): Engine {
  return new SpecRecordingEngine(engine, new DynamoDbDispatchRecords({ client, tableName: env.TABLE_NAME }));
}
