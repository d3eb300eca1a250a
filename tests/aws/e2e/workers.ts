import { type CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { type _InstanceType, type EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';

/**
 * Launches one worker per entry of `types`, tagged `bcs:pool=<pool>` as the stack's VM selector
 * expects, and publishes two recent CPUUtilization samples for each (the fleet source reads a
 * current value and a history window). Returns the instance ids in the order of `types`.
 * Shared by the end-to-end test and the emulator benchmark.
 */
export async function launchWorkers(
  ec2: EC2Client,
  cloudWatch: CloudWatchClient,
  pool: string,
  types: readonly _InstanceType[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const type of types) {
    const { Instances } = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: type,
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'bcs:pool', Value: pool }] }],
      }),
    );
    const id = Instances![0]!.InstanceId!;
    ids.push(id);
    await cloudWatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/EC2',
        MetricData: [1, 2].map((minutesAgo) => ({
          MetricName: 'CPUUtilization',
          Dimensions: [{ Name: 'InstanceId', Value: id }],
          Timestamp: new Date(Date.now() - minutesAgo * 60_000),
          Value: 20,
        })),
      }),
    );
  }
  return ids;
}
