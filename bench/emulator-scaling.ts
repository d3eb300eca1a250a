import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { freePort } from '../scripts/emulator/free-port';
import { auditFailures } from '../scripts/reliability/audit';
import { runDynamoSwarm } from '../scripts/reliability/dynamodb-swarm';
import { DEFAULT_SETTINGS } from '../scripts/reliability/settings';
import { summarise } from '../scripts/reliability/swarm-result';
import { createLedgerTable } from '../tests/aws/helpers/ledger-table';
import { round } from './stats';

/**
 * One chain's throughput against the number of concurrent schedulers, on the emulator
 * (`emulator.scaling` in `npm run bench -- --json`): for each count, that many engines, each with its
 * own DynamoDB client as separate Lambda containers have, race for the head of one fresh table with
 * the same tasks; decisions per second from the first append to the last, and head conflicts per
 * committed block. Every run is audited (no fork, nothing lost or recorded twice, no VM over
 * capacity); a run that fails its audit fails the benchmark rather than report a figure.
 *
 * This checks the shape of the model in docs/performance.md ("One chain's ceiling on AWS"), not AWS's
 * numbers: MiniStack serialises every request in one Python process on the same two CPUs.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

export interface ScalingRow {
  schedulers: number;
  decisions_per_s: number;
  conflicts_per_block: number;
  /** Compare-and-set attempts per schedule() call, mean. */
  attempts_mean: number;
  tasks: number;
  blocks: number;
}

export async function benchEmulatorScaling(options: {
  counts: readonly number[];
  tasks: number;
  log: (line: string) => void;
}): Promise<ScalingRow[]> {
  const external = process.env.LOCALSTACK_ENDPOINT?.replace(/\/+$/, '');
  const port = external ? 0 : await freePort();
  const endpoint =
    external ??
    (await run(join(ROOT, 'scripts/emulator/start.sh'), [String(port)], { timeout: 300_000 })).stdout
      .trim()
      .split('\n')
      .at(-1)!;
  const config = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const admin = new DynamoDBClient(config);
  const rows: ScalingRow[] = [];
  try {
    for (const schedulers of options.counts) {
      const table = await createLedgerTable(admin);
      try {
        const result = await runDynamoSwarm(
          // No task handed to two schedulers here: every decision counted is a distinct task.
          { ...DEFAULT_SETTINGS, tasks: options.tasks, schedulers, overlapEvery: 0, startedAt: Date.now() },
          { client: () => new DynamoDBClient(config), tableName: table.tableName },
        );
        const failures = auditFailures(result.audit);
        if (failures.length > 0)
          throw new Error(`audit failed with ${schedulers} schedulers: ${failures.join('; ')}`);
        const s = summarise(result);
        const row: ScalingRow = {
          schedulers,
          decisions_per_s: round((s.assigned + s.rejected) / s.seconds),
          conflicts_per_block: round(s.conflicts_per_block),
          attempts_mean: round(s.attempts_mean),
          tasks: s.tasks,
          blocks: s.blocks,
        };
        rows.push(row);
        options.log(`  ${JSON.stringify(row)}`);
      } finally {
        await table.drop();
      }
    }
  } finally {
    admin.destroy();
    if (!external) await run(join(ROOT, 'scripts/emulator/stop.sh'), [String(port)], { timeout: 60_000 });
  }
  return rows;
}
