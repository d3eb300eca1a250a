import { CreateTagsCommand, type EC2Client } from '@aws-sdk/client-ec2';

/** Ec2FleetSource's default drainingTag. */
export const DRAINING_TAG = 'bcs:draining';

/**
 * Draining on AWS is a tag: Ec2FleetSource reads `bcs:draining=true` as state 'draining', and every
 * algorithm places nothing new on a draining VM. Schedulers see it once their fleet cache expires
 * (fleetCacheTtlSeconds), so a task may still land on it within that window.
 */
export class Ec2Drain {
  constructor(
    private readonly client: EC2Client,
    private readonly drainingTag = DRAINING_TAG,
  ) {}

  async drain(instanceId: string): Promise<void> {
    await this.client.send(
      new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: this.drainingTag, Value: 'true' }] }),
    );
  }
}
