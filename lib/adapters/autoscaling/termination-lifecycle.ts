import {
  type AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import type { TerminatingInstance, TerminationLifecycle } from '../../ports/scaling';

/** The detail type of the lifecycle event Auto Scaling puts on the default bus. */
export const TERMINATE_ACTION_DETAIL_TYPE = 'EC2 Instance-terminate Lifecycle Action';

/**
 * The termination lifecycle hook of one group. Actions name the instance, or the event's token when
 * the lifecycle event gave one; an action on an instance that is no longer waiting (released by an
 * earlier run, or its hook timed out) is refused by Auto Scaling with a ValidationError, which means
 * there is nothing left to do and is not an error here.
 */
export class AutoScalingTerminationLifecycle implements TerminationLifecycle {
  constructor(
    private readonly client: Pick<AutoScalingClient, 'send'>,
    private readonly groupName: string,
    private readonly hookName: string,
  ) {}

  async waiting(): Promise<TerminatingInstance[]> {
    const { AutoScalingGroups } = await this.client.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [this.groupName] }),
    );
    const group = AutoScalingGroups?.find((g) => g.AutoScalingGroupName === this.groupName);
    if (!group) throw new Error(`no Auto Scaling group named ${this.groupName}`);
    return (group.Instances ?? [])
      .filter((i) => i.InstanceId && i.LifecycleState === 'Terminating:Wait')
      .map((i) => ({ instanceId: i.InstanceId!, groupName: this.groupName, hookName: this.hookName }));
  }

  async release(instance: TerminatingInstance): Promise<void> {
    await this.act(() =>
      this.client.send(
        new CompleteLifecycleActionCommand({ ...this.target(instance), LifecycleActionResult: 'CONTINUE' }),
      ),
    );
  }

  async hold(instance: TerminatingInstance): Promise<void> {
    await this.act(() => this.client.send(new RecordLifecycleActionHeartbeatCommand(this.target(instance))));
  }

  private target(instance: TerminatingInstance) {
    return {
      AutoScalingGroupName: instance.groupName,
      LifecycleHookName: instance.hookName,
      InstanceId: instance.instanceId,
      ...(instance.token === undefined ? {} : { LifecycleActionToken: instance.token }),
    };
  }

  private async act(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (error) {
      // "No active Lifecycle Action found with instance ID ...": already released or timed out.
      if (
        (error as Error).name === 'ValidationError' &&
        /No active Lifecycle Action/i.test((error as Error).message)
      )
        return;
      throw error;
    }
  }
}
