import * as z from 'zod';
import { DEFAULT_DIMENSIONS, type Dimensions } from '../model/resources';
import type { Task } from '../model/task';
import { amountSchema, MAX_AMOUNT } from './amounts';
import { withoutPrototypeKey } from './json-body';

/**
 * POST /tasks payload: one task or an array of tasks, in the original system's shape
 * `{"id":"t-1","cpu":100,"mem":256,"io":50,"bw":10,"deadline":1762306597,"duration":300}`.
 * Shared by the local server, the enqueue Lambda, the SQS consumer and the CLI.
 */

export const MAX_TASKS_PER_REQUEST = 1000;
export { MAX_AMOUNT };

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/;

export const taskIdSchema = z
  .string()
  .regex(
    ID_PATTERN,
    'must be 1-128 characters: letters, digits and ._:@/- (starting with a letter or digit)',
  );

const amount = amountSchema;

/** A GPU model name as device lists spell it (lib/scheduling/devices.ts checks the same rule). */
export const GPU_MODEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,62}$/;
export const MAX_GPU_MODELS = 16;

/** One GPU model name. */
export const gpuModelSchema = z
  .string()
  .regex(GPU_MODEL_PATTERN, 'GPU model names are 1-63 of letters, digits and ._- or space');

/** GPU models a task may run on (any one of them): 1-16 distinct names. */
export const gpuModelsSchema = z
  .array(gpuModelSchema)
  .min(1)
  .max(MAX_GPU_MODELS)
  .refine((models) => new Set(models).size === models.length, 'GPU model names must be distinct');

const labelMap = withoutPrototypeKey(
  z
    .record(
      z.string().regex(LABEL_KEY, 'label keys are 1-63 of letters, digits and ._/-'),
      z.string().max(256),
    )
    .refine((m) => Object.keys(m).length <= 32, 'at most 32 entries')
    .meta({ maxProperties: 32 }),
);

/** Builds the schema for one task given the configured dimensions (cpu, mem, io, bw by default). */
export function taskInputSchema(dimensions: Dimensions = DEFAULT_DIMENSIONS) {
  const dims: Record<string, z.ZodOptional<typeof amount>> = {};
  for (const d of dimensions) dims[d] = amount.optional();
  return z
    .strictObject({
      id: taskIdSchema.optional(),
      ...dims,
      /** Epoch seconds. */
      deadline: z.number().finite().min(0).max(1e11),
      /** Seconds. */
      duration: z.number().finite().positive().max(31_536_000),
      priority: z.number().int().min(-1000).max(1000).optional(),
      labels: labelMap.optional(),
      constraints: labelMap.optional(),
      /** GPU models the task may run on; only VMs that list their GPU devices have models. */
      gpuModels: gpuModelsSchema.optional(),
      command: z.string().min(1).max(4096).optional(),
    })
    .refine((t) => dimensions.some((d) => typeof (t as Record<string, unknown>)[d] === 'number'), {
      message: `at least one resource (${dimensions.join(', ')}) is required`,
    });
}

export type TaskInput = z.output<ReturnType<typeof taskInputSchema>>;

/** One task or a non-empty array of at most MAX_TASKS_PER_REQUEST tasks. */
export function taskSubmissionSchema(dimensions: Dimensions = DEFAULT_DIMENSIONS) {
  const one = taskInputSchema(dimensions);
  return z.union([one, z.array(one).min(1).max(MAX_TASKS_PER_REQUEST)]);
}

/** Turn validated input into a Task. `newId` supplies ids for tasks that came without one. */
export function toTask(
  input: TaskInput,
  dimensions: Dimensions,
  submittedAt: number,
  newId: () => string,
): Task {
  const requirements: Record<string, number> = {};
  const raw = input as Record<string, unknown>;
  for (const d of dimensions) requirements[d] = typeof raw[d] === 'number' ? (raw[d] as number) : 0;
  return {
    id: input.id ?? newId(),
    requirements,
    duration: input.duration,
    deadline: input.deadline,
    priority: input.priority ?? 0,
    submittedAt,
    labels: input.labels ?? {},
    constraints: input.constraints ?? {},
    ...(input.gpuModels === undefined ? {} : { gpuModels: input.gpuModels }),
    ...(input.command === undefined ? {} : { command: input.command }),
  };
}
