import * as z from 'zod';
import { DEFAULT_MAX_PER_BLOCK } from '../ledger/blocks';
import { DEFAULT_DIMENSIONS } from '../model/resources';
import { algorithmParamsSchema } from '../scheduling/params';
import { DEFAULT_PARAMS } from '../scheduling/types';

/**
 * The scheduler's settings, once: each with its default and the bounds the core accepts. Every place
 * a deployment sets them maps its own names onto these fields and takes the defaults from here:
 * - environment variables of the Lambda functions (functions/shared/config.ts, `ALPHA`, `BLOCK_SIZE`),
 * - CDK props (cdk/lib/defaults.ts and props.ts, `alpha`, `blockSize`; validateProps calls
 *   `settingsIssues` and adds the bounds AWS imposes on top),
 * - the local config file and flags (lib/schemas/config.ts, `params.alpha`, `block_size`),
 * and the engine's own defaults (lib/engine/engine.ts). `SETTING_NAMES` lists each surface's names,
 * and tests/unit/engine/settings.test.ts checks that every surface maps every setting.
 */

/** A resource dimension's name: a lower-case identifier of at most 32 characters. */
export const DIMENSION_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** Most dimensions one deployment schedules on. */
export const MAX_DIMENSIONS = 16;

/** One dimension name. */
export const dimensionNameSchema = z
  .string()
  .regex(DIMENSION_NAME, 'dimension names are 1-32 of a-z, 0-9, _');

const params = algorithmParamsSchema.shape;

export const settingsSchema = z.strictObject({
  /** Registry name of the placement algorithm (lib/scheduling/registry.ts). */
  algorithm: z.string().min(1).default('blockchain'),
  /** Weight of current usage in the dynamic weight. */
  alpha: params.alpha.unwrap().default(DEFAULT_PARAMS.alpha),
  /** Weight of historical usage in the dynamic weight. */
  beta: params.beta.unwrap().default(DEFAULT_PARAMS.beta),
  /** Urgency time constant. */
  tau: params.tau.unwrap().default(DEFAULT_PARAMS.tau),
  /** Usage samples kept per VM. */
  historyWindow: params.historyWindow.unwrap().default(DEFAULT_PARAMS.historyWindow),
  /** Resource dimensions scheduled on. */
  dimensions: z
    .array(dimensionNameSchema)
    .min(1)
    .max(MAX_DIMENSIONS)
    .refine((d) => new Set(d).size === d.length, 'dimensions must be unique')
    .default([...DEFAULT_DIMENSIONS]),
  /** Most transactions per block (the original system's 5). */
  blockSize: z.number().int().min(1).max(10_000).default(DEFAULT_MAX_PER_BLOCK),
  /** Seconds after a task's duration before its lease expires. */
  leaseGraceSeconds: z.number().int().min(0).max(86_400).default(60),
  /** Seconds a task that fits the fleet may wait for room before it is recorded as rejected. */
  maxWaitSeconds: z.number().finite().min(0).max(31_536_000).default(900),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingName = keyof Settings;

/** Every setting at its default. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze(settingsSchema.parse({}));

/** The names each surface gives the settings, or why a surface does not set one. */
export type SurfaceNames = { readonly [K in SettingName]: string | { readonly absent: string } };

export const SETTING_NAMES = {
  /** functions/shared/config.ts */
  environment: {
    algorithm: 'ALGORITHM',
    alpha: 'ALPHA',
    beta: 'BETA',
    tau: 'TAU',
    historyWindow: 'HISTORY_WINDOW',
    dimensions: 'DIMENSIONS',
    blockSize: 'BLOCK_SIZE',
    leaseGraceSeconds: 'LEASE_GRACE_SECONDS',
    maxWaitSeconds: 'MAX_WAIT_SECONDS',
  },
  /** cdk/lib/props.ts */
  cdk: {
    algorithm: 'algorithm',
    alpha: 'alpha',
    beta: 'beta',
    tau: 'tau',
    historyWindow: 'historyWindow',
    dimensions: 'dimensions',
    blockSize: 'blockSize',
    leaseGraceSeconds: 'leaseGraceSeconds',
    maxWaitSeconds: 'maxWaitSeconds',
  },
  /** lib/schemas/config.ts (dotted: a field of a nested object) */
  localConfig: {
    algorithm: 'algorithm',
    alpha: 'params.alpha',
    beta: 'params.beta',
    tau: 'params.tau',
    historyWindow: 'params.historyWindow',
    dimensions: 'dimensions',
    blockSize: 'block_size',
    leaseGraceSeconds: 'lease_grace_s',
    maxWaitSeconds: 'max_wait_s',
  },
} as const satisfies Record<string, SurfaceNames>;

/**
 * The problems of `values` (a surface's settings, already under the settings' names) against the
 * core's bounds, each named with the surface's own name for the field.
 */
export function settingsIssues(
  values: Partial<Record<SettingName, unknown>>,
  names: SurfaceNames,
): { field: string; message: string }[] {
  const result = settingsSchema.safeParse(values);
  if (result.success) return [];
  return result.error.issues.map((issue) => {
    const [head, ...rest] = issue.path.map(String);
    const name = names[head as SettingName];
    const field = typeof name === 'string' ? name : (head ?? '');
    return { field: [field, ...rest].join('.'), message: issue.message };
  });
}
