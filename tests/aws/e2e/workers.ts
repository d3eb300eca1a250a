import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { _InstanceType, EC2Client } from '@aws-sdk/client-ec2';
import { launchWorkers as launch } from '../../../cli/emulator-fleet';

/**
 * Launches one worker per entry of `types`, tagged `bcs:pool=<pool>`, with two closed minutes of 20 %
 * CPU: what `bcs fleet launch` does (cli/emulator-fleet.ts). Shared by the end-to-end test and the
 * emulator benchmark. Returns the instance ids in the order of `types`.
 */
export function launchWorkers(
  ec2: EC2Client,
  cloudWatch: CloudWatchClient,
  pool: string,
  types: readonly _InstanceType[],
): Promise<string[]> {
  return launch(ec2, cloudWatch, { pool, types });
}
