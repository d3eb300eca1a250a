import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { freePort } from '../../../scripts/emulator/free-port';

/**
 * moto's server mode, the second DynamoDB emulator (docs/emulator.md): installed pinned by
 * scripts/moto/setup.sh (test-deps.sh), started on a free loopback port by scripts/moto/start.sh and
 * stopped by scripts/moto/stop.sh, as the aws project's globalSetup does with MiniStack.
 */
const run = promisify(execFile);
const scripts = fileURLToPath(new URL('../../../scripts/moto/', import.meta.url));

export interface Moto {
  readonly endpoint: string;
  client(): DynamoDBClient;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const { stdout } = await run(`${scripts}start.sh`, [String(port)], { timeout: 300_000 });
  const endpoint = stdout.trim().split('\n').at(-1)!;
  return {
    endpoint,
    client: () =>
      new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      }),
    stop: async () => {
      await run(`${scripts}stop.sh`, [String(port)], { timeout: 60_000 });
    },
  };
}
