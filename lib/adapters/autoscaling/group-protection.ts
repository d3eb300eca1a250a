import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  SetInstanceProtectionCommand,
} from '@aws-sdk/client-auto-scaling';
import type { ScaleInProtection } from '../../ports/scaling';
import type { GroupInstance, ProtectionChanges } from '../../scaling/protection';

/** SetInstanceProtection takes at most 50 instance ids per call. */
export const MAX_INSTANCES_PER_CALL = 50;

/**
 * Scale-in protection of one Auto Scaling group. Instances that are leaving (Terminating*, Detaching,
 * ...) are left out: protection cannot be changed on them and they take no tasks any more.
 */
export class AutoScalingGroupProtection implements ScaleInProtection {
  constructor(
    private readonly client: AutoScalingClient,
    private readonly groupName: string,
  ) {}

  async instances(): Promise<GroupInstance[]> {
    // One named group is one page: its instances come inside it, not paginated.
    const { AutoScalingGroups } = await this.client.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.groupName] }),
    );
    const group = AutoScalingGroups?.find((g) => g.AutoScalingGroupName === this.groupName);
    // DescribeAutoScalingGroups answers an unknown name with an empty list, not an error.
    if (!group) throw new Error(`no Auto Scaling group named ${this.groupName}`);
    const found: GroupInstance[] = [];
    for (const i of group.Instances ?? []) {
      if (!i.InstanceId || !isInService(i.LifecycleState)) continue;
      found.push({ id: i.InstanceId, protectedFromScaleIn: i.ProtectedFromScaleIn === true });
    }
    return found;
  }

  async apply(changes: ProtectionChanges): Promise<void> {
    for (const [ids, protect] of [
      [changes.protect, true],
      [changes.release, false],
    ] as const) {
      for (let i = 0; i < ids.length; i += MAX_INSTANCES_PER_CALL) {
        await this.client.send(
          new SetInstanceProtectionCommand({
            AutoScalingGroupName: this.groupName,
            InstanceIds: ids.slice(i, i + MAX_INSTANCES_PER_CALL),
            ProtectedFromScaleIn: protect,
          }),
        );
      }
    }
  }
}

/** Pending instances are protected too: the scheduler may place on them as soon as EC2 runs them. */
function isInService(state: string | undefined): boolean {
  return (
    state === 'InService' || state === 'Pending' || state === 'Pending:Wait' || state === 'Pending:Proceed'
  );
}
