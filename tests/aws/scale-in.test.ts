import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeLifecycleHooksCommand,
  PutLifecycleHookCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaleInHandler } from '../../functions/handlers/scale-in';
import { Ec2Drain } from '../../lib/adapters/autoscaling/ec2-drain';
import { AutoScalingTerminationLifecycle } from '../../lib/adapters/autoscaling/termination-lifecycle';
import { Ec2FleetSource } from '../../lib/adapters/aws';
import { DynamoDbLedgerStore } from '../../lib/adapters/dynamodb/dynamodb-ledger-store';
import { SchedulingEngine } from '../../lib/engine/engine';
import { DEFAULT_DIMENSIONS } from '../../lib/model/resources';
import type { Task } from '../../lib/model/task';
import { systemClock } from '../../lib/ports/clock';
import { terminateLifecycleEvent } from '../unit/functions/helpers/events';
import { cloudWatchClient, dynamoDbClient, ec2Client, emulatorConfig } from './helpers/clients';
import { createLedgerTable } from './helpers/ledger-table';
import { uniqueName } from './helpers/names';

/**
 * The scale-in hook's function in process against the emulator: a group with the termination hook,
 * a tagged instance, a DynamoDB ledger the real engine wrote. MiniStack accepts the hook and both
 * lifecycle actions but runs no lifecycle (no Terminating:Wait, no event, no
 * TerminateInstanceInAutoScalingGroup: docs/emulator.md), so the test delivers the lifecycle event
 * itself and checks the actions as they reach the emulator.
 */
describe('scale-in lifecycle hook on the emulator', () => {
  const ec2 = ec2Client();
  const cloudWatch = cloudWatchClient();
  const dynamo = dynamoDbClient();
  const autoScaling = new AutoScalingClient(emulatorConfig());
  const selector = { key: 'bcs:fleet', value: uniqueName('scale-in') };
  const groupName = uniqueName('workers');
  const templateName = uniqueName('workers');
  const hookName = 'bcs-drain-before-terminate';
  const actions: string[] = [];
  let table: Awaited<ReturnType<typeof createLedgerTable>>;
  let store: DynamoDbLedgerStore;
  let instance: string;

  beforeAll(async () => {
    autoScaling.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { InstanceId?: string; LifecycleActionResult?: string };
        if (/LifecycleAction/.test(context.commandName ?? '')) {
          actions.push(
            `${context.commandName} ${input.InstanceId ?? ''} ${input.LifecycleActionResult ?? ''}`.trim(),
          );
        }
        return next(args);
      },
      { step: 'initialize', name: 'recordLifecycleActions' },
    );
    table = await createLedgerTable(dynamo);
    store = new DynamoDbLedgerStore({ client: dynamo, tableName: table.tableName });
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: 'm5.large',
        MinCount: 1,
        MaxCount: 1,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: selector.key, Value: selector.value }] },
        ],
      }),
    );
    instance = run.Instances![0]!.InstanceId!;
    await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: templateName,
        LaunchTemplateData: { ImageId: 'ami-12345678', InstanceType: 't3.micro' },
      }),
    );
    await autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: groupName,
        LaunchTemplate: { LaunchTemplateName: templateName, Version: '$Latest' },
        MinSize: 0,
        MaxSize: 1,
      }),
    );
    await autoScaling.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: groupName,
        LifecycleHookName: hookName,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: 600,
        DefaultResult: 'CONTINUE',
      }),
    );
  });

  afterAll(async () => {
    await autoScaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: groupName, ForceDelete: true }),
    );
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: templateName }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [instance] }));
    await store.close();
    await table.drop();
    for (const c of [ec2, cloudWatch, dynamo, autoScaling]) c.destroy();
  });

  it('drains the terminating instance, holds it while the ledger shows a task on it, releases it once the task completed', async () => {
    const hooks = await autoScaling.send(
      new DescribeLifecycleHooksCommand({ AutoScalingGroupName: groupName }),
    );
    expect(hooks.LifecycleHooks).toMatchObject([
      { LifecycleHookName: hookName, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' },
    ]);
    const fleet = () => new Ec2FleetSource({ ec2, cloudWatch, selector, cacheTtlMs: 0 });
    const engine = new SchedulingEngine({
      store,
      fleet: fleet(),
      clock: systemClock,
      algorithm: 'round-robin',
      dimensions: DEFAULT_DIMENSIONS,
    });
    const task: Task = {
      id: uniqueName('job'),
      requirements: { cpu: 500, mem: 256, io: 0, bw: 0 },
      duration: 600,
      deadline: Math.floor(Date.now() / 1000) + 3600,
      priority: 0,
      submittedAt: Date.now(),
      labels: {},
      constraints: {},
    };
    const placed = await engine.schedule([task]);
    expect(placed.decisions).toMatchObject([{ status: 'assigned', vmId: instance }]);

    const drain = new Ec2Drain(ec2);
    const handle = scaleInHandler({
      env: { AUTO_SCALING_GROUP_NAME: groupName, LIFECYCLE_HOOK_NAME: hookName, SETTLE_SECONDS: 0 },
      lifecycle: new AutoScalingTerminationLifecycle(autoScaling, groupName, hookName),
      termination: { drain: (id) => drain.drain(id), store, sleep: async () => undefined },
      logger: {
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
        debug: () => undefined,
      } as never,
    });
    const event = terminateLifecycleEvent({
      AutoScalingGroupName: groupName,
      LifecycleHookName: hookName,
      EC2InstanceId: instance,
    });

    // Act 1: the termination of an instance holding a task.
    expect(await handle(event)).toEqual([{ instanceId: instance, action: 'held', activeTasks: 1 }]);
    const tags = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance] }))).Reservations![0]!
      .Instances![0]!.Tags;
    expect(tags).toContainEqual({ Key: 'bcs:draining', Value: 'true' });
    // Drained: the engine places nothing new there.
    expect((await fleet().listVms()).find((vm) => vm.id === instance)?.state).toBe('draining');
    const late = await engine.schedule([{ ...task, id: uniqueName('late') }]);
    expect(late.decisions.every((d) => d.vmId !== instance)).toBe(true);

    // Act 2: the task completes; the hook's next run lets the termination go on.
    await engine.complete(task.id);
    expect(await handle(event)).toEqual([{ instanceId: instance, action: 'released' }]);

    expect(actions).toEqual([
      `RecordLifecycleActionHeartbeatCommand ${instance}`,
      `CompleteLifecycleActionCommand ${instance} CONTINUE`,
    ]);
  });
});
