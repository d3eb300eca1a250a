import * as z from 'zod';
import { dimensionNameSchema, settingsSchema } from '../engine/settings';
import { hasControlCharacter } from '../ledger/signed-note';
import { algorithmParamsSchema } from '../scheduling/params';
import { DEFAULT_PARAMS } from '../scheduling/types';
import { capacityAmountSchema } from './amounts';
import { generatorSettingsSchema } from './http';
import { gpuModelSchema } from './task-input';

/**
 * Configuration of the local runtime (`bcs start`): a JSON file, environment variables and flags
 * all end up here, so every source is validated the same way and errors name the field.
 * Defaults are documented in docs/local.md.
 */

const settings = settingsSchema.shape;

export const DEFAULT_CAPACITY: Record<string, number> = { cpu: 4000, mem: 16384, io: 500, bw: 1000, gpu: 0 };

const capacitySchema = z
  .record(dimensionNameSchema, capacityAmountSchema)
  .refine((c) => Object.values(c).some((v) => v > 0), 'at least one dimension must have capacity');

export const fleetConfigSchema = z.strictObject({
  /** VMs at start. */
  size: z.number().int().min(0).max(10_000).default(8),
  /** Capacity of each simulated VM; dimensions left out take DEFAULT_CAPACITY (0 if unknown). */
  capacity: capacitySchema.optional(),
  /** Spread VMs over these zones round-robin (label `zone`). */
  zones: z.array(z.string().min(1).max(63)).min(1).max(64).default(['zone-a', 'zone-b']),
  /** Simulation speed: 10 runs a 300 s task in 30 s of wall time. */
  speed: z.number().finite().positive().max(100_000).default(1),
  /** Relative standard deviation of measured usage around the reserved amount. */
  noise: z.number().finite().min(0).max(1).default(0.05),
  /** How often usage is sampled and finished tasks are completed, ms. */
  tick_ms: z.number().int().min(10).max(60_000).default(1000),
  /**
   * GPU model of the simulated VMs' devices (docs/algorithms.md "GPU devices"): each VM then lists one
   * device of this model per 1000 of its `gpu` capacity, which must be whole GPUs (1 to 64 of them).
   */
  gpu_model: gpuModelSchema.optional(),
});

/**
 * Local autoscaling of the simulated fleet (runtime/fleet/autoscaler.ts): target tracking on backlog
 * per instance, like an EC2 Auto Scaling group scaling queue workers. Off unless `enabled`.
 */
export const autoscaleConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Active VMs never drained below this. */
    min: z.number().int().min(0).max(10_000).default(1),
    /** VMs in the fleet (active and draining) never added beyond this. */
    max: z.number().int().min(1).max(10_000).default(64),
    /** Waiting tasks one active VM may have before the fleet grows. */
    target_backlog_per_vm: z.number().finite().positive().max(1_000_000).default(10),
    /** Most VMs added or drained by one decision. */
    max_step: z.number().int().min(1).max(1000).default(8),
    /** How often the policy runs, ms. */
    tick_ms: z.number().int().min(50).max(60_000).default(1000),
    /** Backlog above target for this long before scaling out, s. */
    scale_out_window_s: z.number().finite().min(0).max(3600).default(2),
    /** Least time between two scale-outs, s. */
    scale_out_cooldown_s: z.number().finite().min(0).max(3600).default(5),
    /** Backlog below target for this long before scaling in, s. */
    scale_in_window_s: z.number().finite().min(0).max(3600).default(10),
    /** Least time between two scale-ins, s. */
    scale_in_cooldown_s: z.number().finite().min(0).max(3600).default(10),
  })
  .refine((a) => a.min <= a.max, { path: ['max'], message: 'must be at least min' });
export type AutoscaleConfig = z.output<typeof autoscaleConfigSchema>;

const runtimeConfigFields = z.strictObject({
  host: z.string().min(1).max(255).default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(8080),
  data_dir: z.string().min(1).default('./data'),
  /**
   * Host names (or addresses) clients may use in `Host` and `Origin` for mutating routes, besides
   * the bound address and loopback names (runtime/http/host-check.ts): e.g. the machine's DNS name
   * when bound to 0.0.0.0.
   */
  allowed_hosts: z
    .array(
      z
        .string()
        .max(253)
        .regex(
          /^(\[[0-9a-fA-F:.]+\]|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?\.?)$/,
          'must be a host name or an IP address, without port or scheme',
        ),
    )
    .max(64)
    .default([]),
  /** When set, every mutating route requires `Authorization: Bearer <token>`. */
  token: z.string().min(8, 'must be at least 8 characters').max(512).optional(),
  dimensions: settings.dimensions,
  algorithm: settings.algorithm,
  params: algorithmParamsSchema.default({}),
  /** Transactions per block. */
  block_size: settings.blockSize,
  /** Tasks drained from the queue per engine.schedule call. */
  batch_size: z.number().int().min(1).max(10_000).default(500),
  /** POST /tasks answers 429 once this many tasks wait. */
  max_queue_depth: z.number().int().min(1).max(100_000_000).default(1_000_000),
  /**
   * Most VMs the simulated fleet may hold: POST /fleet/vms answers 409 naming this limit beyond it.
   * The start size and the autoscaler's max must fit within it.
   */
  max_fleet_size: z.number().int().min(1).max(100_000).default(10_000),
  /** Most live dashboard connections (GET /events) at once; one more is answered 503 naming this limit. */
  max_event_clients: z.number().int().min(1).max(10_000).default(64),
  /** Maximum POST body, bytes. */
  max_body_bytes: z
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  /**
   * SQLite durability. NORMAL (the local default) survives kill -9 and any process crash: queue and
   * ledger share one WAL file and roll back together. On power loss it may lose the last commits,
   * including the latest accepted tasks. FULL fsyncs every commit and survives power loss, at about
   * half the intake rate measured on this project's CI machine (docs/local.md).
   */
  synchronous: z.enum(['FULL', 'NORMAL']).default('NORMAL'),
  /**
   * Run the scheduler loop on its own thread (own SQLite connection), so block hashing and writing
   * do not share a core with HTTP intake. false keeps everything on the main thread.
   */
  scheduler_thread: z.boolean().default(true),
  lease_grace_s: settings.leaseGraceSeconds,
  /**
   * How long a task that fits a VM but finds no room free may wait in the queue for capacity before
   * it is recorded as rejected (the engine's maxWaitSeconds). 0 rejects such a task at once.
   */
  max_wait_s: settings.maxWaitSeconds,
  /** Seed for the simulation and randomised algorithms; random when absent. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .optional(),
  /**
   * The origin line of the log's checkpoints (GET /checkpoint, docs/ledger-format.md section 12), also
   * the key name of its note signatures. Default: bcs-ledger/<first 16 hex digits of the signing key's
   * fingerprint>, unique per key.
   */
  checkpoint_origin: z
    .string()
    .min(1)
    .max(255)
    .refine(
      (o) => !/[\s+]/u.test(o) && !hasControlCharacter(o),
      'must have no spaces, "+" or control characters (e.g. example.com/ledger)',
    )
    .optional(),
  /** How often a new checkpoint is signed (and submitted to witnesses) when the chain grew, ms. */
  checkpoint_interval_ms: z.number().int().min(100).max(3_600_000).default(1000),
  /**
   * Witnesses the checkpoints are submitted to over C2SP tlog-witness (none by default): the witness's
   * submission URL and its verifier key (cosignature/v1, `name+id+base64`). A witness that is down or
   * refuses is logged and counted, never waited on by the scheduler.
   */
  witnesses: z
    .array(
      z.strictObject({
        url: z.url({ protocol: /^https?$/ }),
        key: z.string().min(1).max(4096),
      }),
    )
    .max(32)
    .default([]),
  fleet: fleetConfigSchema.prefault({}),
  autoscale: autoscaleConfigSchema.prefault({}),
  generator: generatorSettingsSchema.partial().prefault({}),
});

/** The fields, plus the rules that relate them (each names the field at fault). */
export const runtimeConfigSchema = runtimeConfigFields.superRefine((config, ctx) => {
  const cap = `must be at most max_fleet_size (${config.max_fleet_size})`;
  if (config.fleet.size > config.max_fleet_size) {
    ctx.addIssue({ code: 'custom', path: ['fleet', 'size'], message: cap });
  }
  if (config.autoscale.enabled && config.autoscale.max > config.max_fleet_size) {
    ctx.addIssue({ code: 'custom', path: ['autoscale', 'max'], message: cap });
  }
  if (config.fleet.gpu_model !== undefined) {
    if (!config.dimensions.includes('gpu')) {
      ctx.addIssue({
        code: 'custom',
        path: ['fleet', 'gpu_model'],
        message: 'needs the gpu dimension in dimensions',
      });
    } else {
      const problem = wholeGpusProblem(config.fleet.capacity?.gpu ?? DEFAULT_CAPACITY.gpu ?? 0);
      if (problem !== null)
        ctx.addIssue({ code: 'custom', path: ['fleet', 'capacity', 'gpu'], message: problem });
    }
  }
});

/**
 * Why a `gpu` capacity cannot be listed as devices (1 to 64 whole GPUs of 1000 milli-GPU), or null.
 * The simulated fleet's devices (fleet.gpu_model) need it.
 */
export function wholeGpusProblem(gpu: number): string | null {
  if (Number.isInteger(gpu / 1000) && gpu >= 1000 && gpu <= 64_000) return null;
  return `must be 1 to 64 whole GPUs (a multiple of 1000 milli-GPU) when VMs list GPU devices, got ${gpu}`;
}

export type RuntimeConfig = z.output<typeof runtimeConfigSchema>;
export type RuntimeConfigInput = z.input<typeof runtimeConfigSchema>;

export const DEFAULT_GENERATOR = {
  running: false,
  rate: 20,
  count: null,
  duration_s: [10, 120],
  deadline_slack_s: [30, 600],
  size: 'mixed',
} as const satisfies z.input<typeof generatorSettingsSchema>;

export { DEFAULT_PARAMS };
