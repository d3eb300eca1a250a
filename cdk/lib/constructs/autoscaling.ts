import { Duration, RemovalPolicy, Tags, Validations } from 'aws-cdk-lib';
import { AutoScalingGroup, GroupMetrics, HealthChecks } from 'aws-cdk-lib/aws-autoscaling';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import {
  AmazonLinuxCpuType,
  BlockDeviceVolume,
  EbsDeviceVolumeType,
  FlowLogDestination,
  InstanceArchitecture,
  InstanceType,
  type IVpc,
  LaunchTemplate,
  MachineImage,
  SecurityGroup,
  SubnetType,
  UserData,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SCALING_DIMENSIONS, SCALING_METRICS } from '../../../lib/adapters/autoscaling/metric-names';
import type { CommandTemplates } from '../../../lib/dispatch/command-templates';
import type { FieldIssue } from '../../../lib/errors';
import { CHECKOV_REASONS, skipCheckov } from '../checkov';
import { templateInstallCommands } from './command-document';

/** The `autoScaling` stack prop: an EC2 Auto Scaling group as the fleet, scaled on backlog per instance. */
export interface AutoScalingOptions {
  /** EC2 instance type of the workers; Graviton types get an arm64 image. @default 't3.medium' */
  readonly instanceType?: string;
  /** Smallest group size. @default 1 */
  readonly minCapacity?: number;
  /** Largest group size. @default 4 */
  readonly maxCapacity?: number;
  /** Queued tasks one instance may have waiting: the target-tracking target. @default 10 */
  readonly targetBacklogPerInstance?: number;
  /** Seconds before a new instance's metrics count towards the group's. @default 300 */
  readonly instanceWarmupSeconds?: number;
}

export const AUTO_SCALING_DEFAULTS: Required<AutoScalingOptions> = {
  instanceType: 't3.medium',
  minCapacity: 1,
  maxCapacity: 4,
  targetBacklogPerInstance: 10,
  instanceWarmupSeconds: 300,
};

/** Every problem of the options, fields named `autoScaling.<name>` (collected with the other props). */
export function autoScalingIssues(options: Required<AutoScalingOptions>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const need = (ok: boolean, field: keyof AutoScalingOptions, message: string) => {
    if (!ok) issues.push({ field: `autoScaling.${field}`, message });
  };
  const int = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;
  need(
    /^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(options.instanceType),
    'instanceType',
    `must be an EC2 instance type such as t3.medium (got "${options.instanceType}")`,
  );
  need(
    int(options.minCapacity, 0, 1000),
    'minCapacity',
    `must be an integer from 0 to 1000 (got ${options.minCapacity})`,
  );
  need(
    int(options.maxCapacity, 1, 1000),
    'maxCapacity',
    `must be an integer from 1 to 1000 (got ${options.maxCapacity})`,
  );
  need(
    !(options.maxCapacity < options.minCapacity),
    'maxCapacity',
    `must be at least minCapacity (got ${options.maxCapacity} < ${options.minCapacity})`,
  );
  need(
    Number.isFinite(options.targetBacklogPerInstance) && options.targetBacklogPerInstance > 0,
    'targetBacklogPerInstance',
    `must be greater than 0 (got ${options.targetBacklogPerInstance})`,
  );
  need(
    int(options.instanceWarmupSeconds, 0, 3600),
    'instanceWarmupSeconds',
    `must be an integer from 0 to 3600 (got ${options.instanceWarmupSeconds})`,
  );
  return issues;
}

/**
 * The CloudWatch agent's configuration on the workers: mem_used_percent with the InstanceId
 * dimension alone (append_dimensions adds it, aggregation_dimensions publishes the series keyed by it
 * only), which is the series lib/adapters/aws/metric-queries.ts reads. With the agent's defaults the
 * metric also carries ImageId, InstanceType and AutoScalingGroupName, a different series: memory
 * would read as 0.
 */
export const CLOUDWATCH_AGENT_CONFIG = {
  agent: { metrics_collection_interval: 60 },
  metrics: {
    namespace: 'CWAgent',
    // The agent's own placeholder, not a template string.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: substituted by the CloudWatch agent
    append_dimensions: { InstanceId: '${aws:InstanceId}' },
    aggregation_dimensions: [['InstanceId']],
    metrics_collected: { mem: { measurement: ['mem_used_percent'] } },
  },
} as const;

/**
 * Boot script of a worker (Amazon Linux 2023, where the SSM agent is preinstalled and enabled):
 * install and start the CloudWatch agent with CLOUDWATCH_AGENT_CONFIG, and make sure the SSM agent
 * runs so that Run Command reaches the instance.
 */
export function workerUserData(commandTemplates: CommandTemplates = {}): UserData {
  const data = UserData.forLinux();
  const config = '/opt/aws/amazon-cloudwatch-agent/etc/bcs-agent.json';
  data.addCommands(
    'set -euo pipefail',
    'dnf install -y amazon-cloudwatch-agent',
    `mkdir -p "$(dirname ${config})"`,
    `cat > ${config} <<'BCS_EOF'`,
    JSON.stringify(CLOUDWATCH_AGENT_CONFIG, null, 2),
    'BCS_EOF',
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${config}`,
    'systemctl enable --now amazon-ssm-agent',
  );
  // SSM dispatch: the unprivileged task user and the allow-listed command templates.
  if (Object.keys(commandTemplates).length > 0)
    data.addCommands(...templateInstallCommands(commandTemplates));
  return data;
}

export interface WorkerGroupProps extends Required<AutoScalingOptions> {
  /** The fleet tag (Ec2FleetSource's selector); every instance launched carries it. */
  readonly vmTagKey: string;
  readonly vmTagValue: string;
  /** Where the fleet monitor publishes BacklogPerInstance. */
  readonly metricsNamespace: string;
  readonly fleetName: string;
  /** @default a new VPC: two AZs, public subnets, no NAT gateway, flow logs */
  readonly vpc?: IVpc;
  readonly retainLogs: boolean;
  /** SSM dispatch's allow-listed commands, installed at boot with the task user. @default none */
  readonly commandTemplates?: CommandTemplates;
}

/**
 * The workers as an Auto Scaling group with a target-tracking policy on the fleet monitor's
 * BacklogPerInstance (AWS's pattern for queue workers). Scale-in protection is not set at launch:
 * the fleet monitor sets and releases it from the ledger's reservations every minute.
 */
export class WorkerGroup extends Construct {
  readonly group: AutoScalingGroup;
  readonly vpc: IVpc;
  /** The workers' instance role. */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: WorkerGroupProps) {
    super(scope, id);
    this.vpc = props.vpc ?? this.defaultVpc(props.retainLogs);
    const instanceType = new InstanceType(props.instanceType);
    const securityGroup = new SecurityGroup(this, 'Workers', {
      vpc: this.vpc,
      description: 'Scheduler workers: no inbound traffic; outbound to the scheduler API and AWS endpoints',
      allowAllOutbound: true,
    });
    // Without an instance profile the SSM agent never registers (every SendCommand fails with
    // InvalidInstanceId) and the CloudWatch agent cannot publish memory.
    const role = new Role(this, 'InstanceRole', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      description: 'Scheduler workers: SSM agent registration and CloudWatch agent metrics',
      managedPolicies: [
        ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'),
        ManagedPolicy.fromAwsManagedPolicyName('CloudWatchAgentServerPolicy'),
      ],
    });
    this.role = role;
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        reason:
          "AWS's documented minimum for an instance managed by Systems Manager (agent registration, Run Command messages); AWS keeps it in step with the agent.",
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/CloudWatchAgentServerPolicy]',
        reason:
          "AWS's documented policy for the CloudWatch agent (PutMetricData and its logs); the agent publishes the memory metric the scheduler reads.",
      },
    );
    const template = new LaunchTemplate(this, 'LaunchTemplate', {
      instanceType,
      role,
      userData: workerUserData(props.commandTemplates),
      machineImage: MachineImage.latestAmazonLinux2023({
        cpuType:
          instanceType.architecture === InstanceArchitecture.ARM_64
            ? AmazonLinuxCpuType.ARM_64
            : AmazonLinuxCpuType.X86_64,
      }),
      securityGroup,
      requireImdsv2: true,
      // One-minute EC2 metrics: the fleet source reads usage at a 60 s period.
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: BlockDeviceVolume.ebs(20, { encrypted: true, volumeType: EbsDeviceVolumeType.GP3 }),
        },
      ],
    });
    this.group = new AutoScalingGroup(this, 'Group', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      launchTemplate: template,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      // No desiredCapacity: it would reset the group's size to a fixed number on every deploy.
      healthChecks: HealthChecks.ec2({ gracePeriod: Duration.seconds(props.instanceWarmupSeconds) }),
      groupMetrics: [GroupMetrics.all()],
    });
    Tags.of(this.group).add(props.vmTagKey, props.vmTagValue, { applyToLaunchedInstances: true });
    this.group.scaleToTrackMetric('BacklogPerInstance', {
      metric: new Metric({
        namespace: props.metricsNamespace,
        metricName: SCALING_METRICS.backlogPerInstance,
        dimensionsMap: { [SCALING_DIMENSIONS.fleet]: props.fleetName },
        statistic: 'Average',
        period: Duration.minutes(1),
      }),
      targetValue: props.targetBacklogPerInstance,
      estimatedInstanceWarmup: Duration.seconds(props.instanceWarmupSeconds),
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        "Scaling activity is in the group's activity history and the fleet monitor's metrics (ActiveInstances, BacklogPerInstance); an SNS topic per scaling event is the operator's choice.",
    });
  }

  private defaultVpc(retainLogs: boolean): IVpc {
    const vpc = new Vpc(this, 'Vpc', {
      maxAzs: 2,
      // Workers reach the API over the internet; NAT gateways would cost more than the workers.
      natGateways: 0,
      subnetConfiguration: [{ name: 'workers', subnetType: SubnetType.PUBLIC, cidrMask: 24 }],
    });
    const flowLogs = new LogGroup(this, 'FlowLogs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    skipCheckov(flowLogs, { id: 'CKV_AWS_158', reason: CHECKOV_REASONS.logsDefaultEncryption });
    vpc.addFlowLog('FlowLog', { destination: FlowLogDestination.toCloudWatchLogs(flowLogs) });
    return vpc;
  }
}

/** The `autoScaling` prop with its defaults filled in, or undefined when it is off. */
export function resolveAutoScaling(
  value: boolean | AutoScalingOptions | undefined,
): Required<AutoScalingOptions> | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return { ...AUTO_SCALING_DEFAULTS };
  const defined = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
  return { ...AUTO_SCALING_DEFAULTS, ...defined };
}
