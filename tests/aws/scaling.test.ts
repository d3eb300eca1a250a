import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  CreateLaunchTemplateCommand,
  DeleteLaunchTemplateCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AutoScalingGroupProtection,
  CloudWatchScalingMetrics,
  Ec2Drain,
  SqsBacklog,
} from '../../lib/adapters/autoscaling';
import { Ec2FleetSource } from '../../lib/adapters/aws';
import { DynamoDbLedgerStore } from '../../lib/adapters/dynamodb/dynamodb-ledger-store';
import { SchedulingEngine } from '../../lib/engine/engine';
import { DEFAULT_DIMENSIONS } from '../../lib/model/resources';
import type { Task } from '../../lib/model/task';
import { systemClock } from '../../lib/ports/clock';
import { FleetMonitorError, type GroupInstance, runFleetMonitor } from '../../lib/scaling';
import { scheduledEvent } from '../unit/functions/helpers/events';
import { cloudWatchClient, dynamoDbClient, ec2Client, emulatorConfig } from './helpers/clients';
import { createLedgerTable } from './helpers/ledger-table';
import { uniqueName } from './helpers/names';

/**
 * The fleet monitor in process against the emulator: a queue with a backlog, tagged instances, a
 * DynamoDB ledger the real engine wrote, an Auto Scaling group; the metrics are read back from
 * CloudWatch. MiniStack has no SetInstanceProtection (docs/emulator.md): the protection requests are
 * checked as they reach it, and its refusal must surface without costing the metrics.
 */
describe('fleet monitor on the emulator', () => {
  const ec2 = ec2Client();
  const cloudWatch = cloudWatchClient();
  const dynamo = dynamoDbClient();
  const sqs = new SQSClient(emulatorConfig());
  const autoScaling = new AutoScalingClient(emulatorConfig());
  const selector = { key: 'bcs:fleet', value: uniqueName('scaling') };
  const namespace = uniqueName('BcsScalingTest');
  const fleetName = uniqueName('fleet');
  const groupName = uniqueName('workers');
  const templateName = uniqueName('workers');
  // The minute the run is stamped with; metrics are read back for exactly that period.
  const at = Math.floor(Date.now() / 60_000) * 60_000;
  const protectionRequests: { ids: string[]; protect: boolean }[] = [];
  const dynamoCommands: string[] = [];
  let queueUrl: string;
  let table: Awaited<ReturnType<typeof createLedgerTable>>;
  let store: DynamoDbLedgerStore;
  let instances: string[];
  let cpuCapacity: number;

  const task = (id: string): Task => ({
    id,
    requirements: { cpu: 1000, mem: 256, io: 0, bw: 0 },
    duration: 600,
    deadline: Math.floor(Date.now() / 1000) + 3600,
    priority: 0,
    submittedAt: Date.now(),
    labels: {},
    constraints: {},
  });
  const source = () => new Ec2FleetSource({ ec2, cloudWatch, selector, cacheTtlMs: 0 });

  beforeAll(async () => {
    autoScaling.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SetInstanceProtectionCommand') {
          const input = args.input as { InstanceIds: string[]; ProtectedFromScaleIn: boolean };
          protectionRequests.push({ ids: input.InstanceIds, protect: input.ProtectedFromScaleIn });
        }
        return next(args);
      },
      { step: 'initialize', name: 'recordProtectionRequests' },
    );
    dynamo.middlewareStack.add(
      (next, context) => async (args) => {
        dynamoCommands.push(context.commandName ?? '');
        return next(args);
      },
      { step: 'initialize', name: 'recordDynamoDbCommands' },
    );
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('tasks') }))).QueueUrl!;
    table = await createLedgerTable(dynamo);
    store = new DynamoDbLedgerStore({ client: dynamo, tableName: table.tableName });
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12345678',
        InstanceType: 'm5.large',
        MinCount: 3,
        MaxCount: 3,
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: selector.key, Value: selector.value }] },
        ],
      }),
    );
    instances = run.Instances!.map((i) => i.InstanceId!).sort();
    const types = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ['m5.large'] }));
    cpuCapacity = types.InstanceTypes![0]!.VCpuInfo!.DefaultVCpus! * 1000;
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
        MaxSize: 2,
        DesiredCapacity: 2,
        NewInstancesProtectedFromScaleIn: true,
      }),
    );
  });

  afterAll(async () => {
    await autoScaling.send(
      new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: groupName, ForceDelete: true }),
    );
    await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: templateName }));
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: instances }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    await store.close();
    await table.drop();
    for (const c of [ec2, cloudWatch, dynamo, sqs, autoScaling]) c.destroy();
    vi.unstubAllEnvs();
  });

  it('drains by tag: the fleet source reports it and the engine places nothing new there', async () => {
    const [, , drained] = instances;
    await new Ec2Drain(ec2).drain(drained!);
    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [drained!] }));
    expect(described.Reservations![0]!.Instances![0]!.Tags).toContainEqual({
      Key: 'bcs:draining',
      Value: 'true',
    });
    const states = new Map((await source().listVms()).map((vm) => [vm.id, vm.state]));
    expect(states).toEqual(new Map(instances.map((id) => [id, id === drained ? 'draining' : 'active'])));

    const engine = new SchedulingEngine({
      store,
      fleet: source(),
      clock: systemClock,
      algorithm: 'round-robin',
      dimensions: DEFAULT_DIMENSIONS,
      maxTasksPerCommit: 30,
    });
    // Round-robin would reach every VM with six tasks; the drained one gets none.
    const outcome = await engine.schedule(['t1', 't2', 't3', 't4', 't5', 't6'].map(task));
    const used = new Set(outcome.decisions.map((d) => d.vmId));
    expect(outcome.decisions.every((d) => d.status === 'assigned')).toBe(true);
    expect([...used].sort()).toEqual(instances.filter((id) => id !== drained));
  });

  it('publishes backlog per active instance and utilisation, and asks the group for protection changes', async () => {
    // Backlog: 5 sent (3 visible + 2 received, in flight) and 1 delayed: 6 unplaced tasks.
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [1, 2, 3, 4, 5].map((i) => ({ Id: `m${i}`, MessageBody: `{"n":${i}}` })),
      }),
    );
    await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 2, VisibilityTimeout: 600 }),
    );
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"n":6}', DelaySeconds: 600 }));

    const group = await autoScaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
    );
    const groupIds = group.AutoScalingGroups![0]!.Instances!.map((i) => i.InstanceId!).sort();
    expect(groupIds).toHaveLength(2);

    dynamoCommands.length = 0;
    const run = runFleetMonitor({
      fleet: source(),
      store,
      backlog: new SqsBacklog(sqs, queueUrl),
      metrics: new CloudWatchScalingMetrics({ client: cloudWatch, namespace, fleet: fleetName }),
      protection: new AutoScalingGroupProtection(autoScaling, groupName),
      dimensions: DEFAULT_DIMENSIONS,
      now: () => at,
    });
    const error = (await run.catch((e: unknown) => e)) as FleetMonitorError;
    // Reservations by key for the 3 fleet + 2 group instances: one BatchGetItem, never a Scan of the ledger.
    expect(dynamoCommands).toEqual(['BatchGetItemCommand']);

    // The group's instances were read from the emulator (launched protected, holding no task), so
    // both are to be released; MiniStack refuses the call, and only that step fails.
    expect(error).toBeInstanceOf(FleetMonitorError);
    expect(error.failures.map((f) => [f.step, (f.error as Error).name])).toEqual([
      ['protection', 'InvalidAction'],
    ]);
    expect(error.report.protection).toEqual({ protect: [], release: groupIds });
    expect(protectionRequests).toEqual([{ ids: groupIds, protect: false }]);
    const read: GroupInstance[] = await new AutoScalingGroupProtection(autoScaling, groupName).instances();
    expect(read.sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(
      groupIds.map((id) => ({ id, protectedFromScaleIn: true })),
    );

    const snapshot = error.report.snapshot!;
    expect(snapshot).toMatchObject({
      backlog: 6,
      activeInstances: 2,
      drainingInstances: 1,
      freeToTerminate: 1,
    });
    expect(snapshot.backlogPerInstance).toBe(3); // 6 / 2 active

    // Expected utilisation from the ledger, by hand: reserved cpu / capacity of the two active VMs.
    const reservations = new Map((await store.getReservations()).map((r) => [r.vm_id, r.reserved.cpu ?? 0]));
    const ratios = instances.slice(0, 2).map((id) => (reservations.get(id) ?? 0) / cpuCapacity);
    expect(ratios.every((r) => r > 0)).toBe(true);

    const query = (id: string, metric: string, stat: string, resource?: string): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: namespace,
          MetricName: metric,
          Dimensions: [
            { Name: 'Fleet', Value: fleetName },
            ...(resource ? [{ Name: 'Resource', Value: resource }] : []),
          ],
        },
        Period: 60,
        Stat: stat,
      },
    });
    const result = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(at),
        EndTime: new Date(at + 60_000),
        MetricDataQueries: [
          query('bpi', 'BacklogPerInstance', 'Average'),
          query('backlog', 'Backlog', 'Sum'),
          query('free', 'FreeToTerminate', 'Maximum'),
          query('cpumean', 'Utilisation', 'Average', 'cpu'),
          query('cpumax', 'Utilisation', 'Maximum', 'cpu'),
          query('cpun', 'Utilisation', 'SampleCount', 'cpu'),
        ],
      }),
    );
    const values = Object.fromEntries(result.MetricDataResults!.map((r) => [r.Id, r.Values]));
    expect(values.bpi).toEqual([3]);
    expect(values.backlog).toEqual([6]);
    expect(values.free).toEqual([1]);
    expect(values.cpun).toEqual([2]);
    expect(values.cpumax![0]).toBeCloseTo(Math.max(...ratios), 12);
    expect(values.cpumean![0]).toBeCloseTo((ratios[0]! + ratios[1]!) / 2, 12);
  });
  it('runs as deployed: the Lambda entry wires its adapters from the environment', async () => {
    const entryFleet = uniqueName('entry');
    vi.stubEnv('TABLE_NAME', table.tableName);
    vi.stubEnv('ALGORITHM', 'best-fit');
    vi.stubEnv('VM_TAG_KEY', selector.key);
    vi.stubEnv('VM_TAG_VALUE', selector.value);
    vi.stubEnv('QUEUE_URL', queueUrl);
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', namespace);
    vi.stubEnv('FLEET_NAME', entryFleet);
    const { handler } = await import('../../functions/fleet-monitor');
    const report = await handler(scheduledEvent());
    // Same queue, fleet and ledger as above, no group: backlog 6 over the 2 active instances.
    expect(report.snapshot).toMatchObject({ backlog: 6, activeInstances: 2, backlogPerInstance: 3 });
    expect(report.protection).toBeUndefined();
    const stamped = report.snapshot.at;
    const result = await cloudWatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(Math.floor(stamped / 60_000) * 60_000),
        EndTime: new Date(Math.floor(stamped / 60_000) * 60_000 + 60_000),
        MetricDataQueries: [
          {
            Id: 'bpi',
            MetricStat: {
              Metric: {
                Namespace: namespace,
                MetricName: 'BacklogPerInstance',
                Dimensions: [{ Name: 'Fleet', Value: entryFleet }],
              },
              Period: 60,
              Stat: 'Average',
            },
          },
        ],
      }),
    );
    expect(result.MetricDataResults![0]!.Values).toEqual([3]);
  });
});
