import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import {
  type _InstanceType,
  DescribeInstanceTypesCommand,
  type EC2Client,
  type Instance,
  type InstanceTypeInfo,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import * as z from 'zod';
import { parseOrThrow } from '../../errors';
import { DEFAULT_DIMENSIONS, type ResourceVector, zeroVector } from '../../model/resources';
import type { GpuDevice, Vm, VmLabels } from '../../model/vm';
import { type Clock, systemClock } from '../../ports/clock';
import type { FleetSource, QuarantinedVm } from '../../ports/fleet-source';
import { GPU_DIMENSION } from '../../scheduling/devices';
import { instanceTypeCapacity, instanceTypeDevices } from './instance-capacity';
import { INSTANCE_METRICS, MAX_QUERIES_PER_REQUEST, metricQueries, usageSamples } from './metric-queries';

export interface Ec2FleetSourceOptions {
  readonly ec2: EC2Client;
  readonly cloudWatch: CloudWatchClient;
  /** Instances that belong to the fleet carry this tag, e.g. { key: 'bcs:fleet', value: 'prod' }. */
  readonly selector: { readonly key: string; readonly value: string };
  /** @default DEFAULT_DIMENSIONS (cpu, mem, io, bw) */
  readonly dimensions?: readonly string[];
  /** Samples kept per VM, the latest included. @default 10 */
  readonly historyWindow?: number;
  /** CloudWatch period, seconds: 60 with detailed monitoring, 300 with basic. @default 60 */
  readonly periodSeconds?: number;
  /** How long a warm container reuses a fleet it read, ms. @default 30000 */
  readonly cacheTtlMs?: number;
  /** Tag whose value 'true' puts a VM in state 'draining'. @default 'bcs:draining' */
  readonly drainingTag?: string;
  /** Tag whose value becomes the `pool` label. @default 'bcs:pool' */
  readonly poolTag?: string;
  /** Tags under this prefix become labels named by the rest of the key. @default 'bcs:label:' */
  readonly labelTagPrefix?: string;
  /** @default systemClock */
  readonly clock?: Clock;
}

const tagKey = z.string().min(1).max(128);
const optionsSchema = z.object({
  selector: z.object({ key: tagKey, value: z.string().max(256) }),
  dimensions: z.array(z.string().min(1)).min(1).optional(),
  historyWindow: z.number().int().min(1).max(1440).optional(),
  // CloudWatch accepts 1, 5, 10, 30 or a multiple of 60; EC2 metrics exist at 60 s at best.
  periodSeconds: z
    .number()
    .int()
    .positive()
    .refine((p) => p % 60 === 0, 'must be a multiple of 60')
    .optional(),
  cacheTtlMs: z.number().int().min(0).optional(),
  drainingTag: tagKey.optional(),
  poolTag: tagKey.optional(),
  labelTagPrefix: tagKey.optional(),
});

/** DescribeInstanceTypes takes at most 100 type names per request. */
const TYPES_PER_REQUEST = 100;

/**
 * The fleet as EC2 and CloudWatch see it: running instances with the selector tag, their capacity
 * from the instance type (instance-capacity.ts) and their usage from CloudWatch (metric-queries.ts).
 * `reserved` and `activeTasks` are zero here: the ledger store owns them and the engine merges them in.
 *
 * Meant to live at module scope of a Lambda: instance types are cached for the container's life
 * (they never change), the fleet for `cacheTtlMs`, and concurrent callers share one read.
 */
export class Ec2FleetSource implements FleetSource {
  private readonly ec2: EC2Client;
  private readonly cloudWatch: CloudWatchClient;
  private readonly selector: { key: string; value: string };
  private readonly dimensions: readonly string[];
  private readonly historyWindow: number;
  private readonly periodSeconds: number;
  private readonly cacheTtlMs: number;
  private readonly drainingTag: string;
  private readonly poolTag: string;
  private readonly labelTagPrefix: string;
  private readonly clock: Clock;
  private readonly instanceTypes = new Map<string, InstanceTypeInfo>();
  private cached: { at: number; read: FleetRead } | undefined;
  private inFlight: Promise<FleetRead> | undefined;
  private lastQuarantine: QuarantinedVm[] = [];

  constructor(options: Ec2FleetSourceOptions) {
    const { ec2, cloudWatch, clock, ...settings } = options;
    const valid = parseOrThrow(optionsSchema, settings, 'invalid Ec2FleetSource options');
    this.ec2 = ec2;
    this.cloudWatch = cloudWatch;
    this.clock = clock ?? systemClock;
    this.selector = valid.selector;
    this.dimensions = valid.dimensions ?? DEFAULT_DIMENSIONS;
    this.historyWindow = valid.historyWindow ?? 10;
    this.periodSeconds = valid.periodSeconds ?? 60;
    this.cacheTtlMs = valid.cacheTtlMs ?? 30_000;
    this.drainingTag = valid.drainingTag ?? 'bcs:draining';
    this.poolTag = valid.poolTag ?? 'bcs:pool';
    this.labelTagPrefix = valid.labelTagPrefix ?? 'bcs:label:';
  }

  /**
   * The instances that could be read. One whose instance type cannot be described or whose metrics
   * cannot be read is left out and reported by `quarantined()`, so one bad instance (or one failed
   * CloudWatch request) does not stop scheduling on the rest. When nothing at all can be read (EC2 or
   * CloudWatch down for every request), it throws instead: no instance is at fault, and an empty fleet
   * would turn a passing outage into rejected tasks.
   */
  async listVms(): Promise<Vm[]> {
    const now = this.clock.now();
    if (!(this.cached && now - this.cached.at < this.cacheTtlMs)) {
      this.inFlight ??= this.readFleet(now).finally(() => {
        this.inFlight = undefined;
      });
      this.cached = { at: now, read: await this.inFlight };
    }
    const { vms, quarantined } = this.cached.read;
    this.lastQuarantine = quarantined.map((q) => ({ ...q }));
    return copyVms(vms);
  }

  /** The instances the last listVms left out, with the reason. */
  quarantined(): readonly QuarantinedVm[] {
    return this.lastQuarantine.map((q) => ({ ...q }));
  }

  /** Drops the cached fleet, e.g. after the caller changed tags or instances. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async readFleet(now: number): Promise<FleetRead> {
    const all = await this.runningInstances();
    const typeErrors = await this.loadInstanceTypes(all.map((i) => i.InstanceType!));
    const quarantined: QuarantinedVm[] = [];
    const capacities = new Map<string, ResourceVector>();
    const devices = new Map<string, GpuDevice[]>();
    const described: Instance[] = [];
    for (const instance of all) {
      const type = instance.InstanceType!;
      const info = this.instanceTypes.get(type);
      if (!info) {
        const why = typeErrors.get(type) ?? 'EC2 did not describe it';
        quarantined.push({ vm_id: instance.InstanceId!, reason: `instance type ${type}: ${why}` });
        continue;
      }
      capacities.set(instance.InstanceId!, instanceTypeCapacity(info, this.dimensions));
      // Devices only when GPUs are scheduled: their milli must add up to capacity.gpu.
      const gpus = this.dimensions.includes(GPU_DIMENSION) ? instanceTypeDevices(info) : undefined;
      if (gpus !== undefined) devices.set(instance.InstanceId!, gpus);
      described.push(instance);
    }
    if (all.length > 0 && described.length === 0 && typeErrors.size > 0) {
      throw new Error(`no instance type of the fleet could be described: ${[...typeErrors.values()][0]}`);
    }
    const usage = await this.readUsage(
      described.map((i) => i.InstanceId!),
      capacities,
      now,
    );
    if (described.length > 0 && usage.failed.size === described.length) {
      throw new Error(`no instance's metrics could be read: ${[...usage.failed.values()][0]}`);
    }
    const instances = described.filter((instance) => {
      const error = usage.failed.get(instance.InstanceId!);
      if (error !== undefined) {
        quarantined.push({ vm_id: instance.InstanceId!, reason: `metrics could not be read: ${error}` });
      }
      return error === undefined;
    });
    const samples = usage.samples;
    quarantined.sort((a, b) => (a.vm_id < b.vm_id ? -1 : a.vm_id > b.vm_id ? 1 : 0));
    const vms = instances.map((instance): Vm => {
      const id = instance.InstanceId!;
      const history = (samples.get(id) ?? []).slice(-this.historyWindow);
      const gpus = devices.get(id);
      return {
        id,
        ...(gpus === undefined ? {} : { gpus }),
        capacity: capacities.get(id)!,
        reserved: zeroVector(this.dimensions),
        usage: history.at(-1) ?? zeroVector(this.dimensions),
        history,
        activeTasks: 0,
        labels: this.labels(instance),
        state: tagValue(instance, this.drainingTag) === 'true' ? 'draining' : 'active',
      };
    });
    return { vms, quarantined };
  }

  private async runningInstances(): Promise<Instance[]> {
    const instances: Instance[] = [];
    const pages = paginateDescribeInstances(
      { client: this.ec2, pageSize: 1000 },
      {
        Filters: [
          { Name: `tag:${this.selector.key}`, Values: [this.selector.value] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      },
    );
    for await (const page of pages) {
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          // The filters are applied by EC2; checking again keeps an emulator that ignores one honest.
          if (!instance.InstanceId || !instance.InstanceType) continue;
          if (instance.State?.Name !== 'running') continue;
          if (tagValue(instance, this.selector.key) !== this.selector.value) continue;
          instances.push(instance);
        }
      }
    }
    instances.sort((a, b) => (a.InstanceId! < b.InstanceId! ? -1 : a.InstanceId! > b.InstanceId! ? 1 : 0));
    return instances;
  }

  /** Describes the types not yet cached; returns the error for each type of a request that failed. */
  private async loadInstanceTypes(types: readonly string[]): Promise<Map<string, string>> {
    const missing = [...new Set(types)].filter((t) => !this.instanceTypes.has(t));
    const errors = new Map<string, string>();
    for (let i = 0; i < missing.length; i += TYPES_PER_REQUEST) {
      const chunk = missing.slice(i, i + TYPES_PER_REQUEST);
      let token: string | undefined;
      try {
        do {
          const page = await this.ec2.send(
            new DescribeInstanceTypesCommand({ InstanceTypes: chunk as _InstanceType[], NextToken: token }),
          );
          for (const info of page.InstanceTypes ?? []) {
            if (info.InstanceType) this.instanceTypes.set(info.InstanceType, info);
          }
          token = page.NextToken;
        } while (token);
      } catch (error) {
        // One unknown or unreadable type fails its whole request (EC2 answers InvalidInstanceType):
        // ask for the chunk's types one by one so that only the bad one is left out.
        for (const type of chunk) {
          if (this.instanceTypes.has(type)) continue;
          try {
            const page = await this.ec2.send(
              new DescribeInstanceTypesCommand({ InstanceTypes: [type as _InstanceType] }),
            );
            for (const info of page.InstanceTypes ?? []) {
              if (info.InstanceType) this.instanceTypes.set(info.InstanceType, info);
            }
          } catch (single) {
            errors.set(type, describeError(single ?? error));
          }
        }
      }
    }
    return errors;
  }

  private async readUsage(
    ids: readonly string[],
    capacities: ReadonlyMap<string, ResourceVector>,
    now: number,
  ): Promise<{ samples: Map<string, ResourceVector[]>; failed: Map<string, string> }> {
    const failed = new Map<string, string>();
    if (ids.length === 0) return { samples: new Map(), failed };
    const periodMs = this.periodSeconds * 1000;
    // Whole periods only: the period still in progress would read as a dip in usage.
    const end = Math.floor(now / periodMs) * periodMs;
    const start = end - this.historyWindow * periodMs;
    const instancesPerRequest = Math.floor(MAX_QUERIES_PER_REQUEST / INSTANCE_METRICS.length);
    const samples = new Map<string, ResourceVector[]>();
    for (let i = 0; i < ids.length; i += instancesPerRequest) {
      const chunk = ids.slice(i, i + instancesPerRequest);
      const results: MetricDataResult[] = [];
      let token: string | undefined;
      try {
        do {
          const page = await this.cloudWatch.send(
            new GetMetricDataCommand({
              MetricDataQueries: metricQueries(chunk, this.periodSeconds),
              StartTime: new Date(start),
              EndTime: new Date(end),
              ScanBy: 'TimestampAscending',
              NextToken: token,
            }),
          );
          results.push(...(page.MetricDataResults ?? []));
          token = page.NextToken;
        } while (token);
      } catch (error) {
        // This request's instances are left out (quarantined), the other requests' are scheduled on.
        for (const id of chunk) failed.set(id, describeError(error));
        continue;
      }
      const folded = usageSamples(
        mergeResults(results),
        chunk,
        capacities,
        this.periodSeconds,
        this.dimensions,
      );
      for (const [id, series] of folded) samples.set(id, series);
    }
    return { samples, failed };
  }

  private labels(instance: Instance): VmLabels {
    const labels: VmLabels = {};
    for (const tag of instance.Tags ?? []) {
      if (tag.Key?.startsWith(this.labelTagPrefix) && tag.Value !== undefined) {
        labels[tag.Key.slice(this.labelTagPrefix.length)] = tag.Value;
      }
    }
    const pool = tagValue(instance, this.poolTag);
    if (pool !== undefined) labels.pool = pool;
    if (instance.Placement?.AvailabilityZone) labels.zone = instance.Placement.AvailabilityZone;
    if (instance.InstanceType) labels.instanceType = instance.InstanceType;
    return labels;
  }
}

function tagValue(instance: Instance, key: string): string | undefined {
  return instance.Tags?.find((t) => t.Key === key)?.Value;
}

/** Paginated GetMetricData returns the same query id on several pages; their points belong together. */
function mergeResults(results: readonly MetricDataResult[]): MetricDataResult[] {
  const byId = new Map<string, MetricDataResult>();
  for (const r of results) {
    const seen = byId.get(r.Id ?? '');
    if (!seen) {
      byId.set(r.Id ?? '', { ...r, Timestamps: [...(r.Timestamps ?? [])], Values: [...(r.Values ?? [])] });
      continue;
    }
    seen.Timestamps!.push(...(r.Timestamps ?? []));
    seen.Values!.push(...(r.Values ?? []));
  }
  return [...byId.values()];
}

/** What one read of EC2 and CloudWatch found: the VMs to schedule on and the instances left out. */
interface FleetRead {
  vms: Vm[];
  quarantined: QuarantinedVm[];
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function copyVms(vms: readonly Vm[]): Vm[] {
  return vms.map((vm) => structuredClone(vm));
}
