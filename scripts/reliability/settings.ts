import * as z from 'zod';
import { algorithmNames } from '../../lib/scheduling/registry';

/**
 * One concurrency run's settings. They come from the command line (scripts/reliability/run.ts) and
 * reach each worker process over IPC, so both ends parse them with this schema.
 */
export const runSettingsSchema = z.strictObject({
  tasks: z.number().int().min(1).max(1_000_000),
  schedulers: z.number().int().min(1).max(64),
  vms: z.number().int().min(1).max(10_000),
  overlapEvery: z.number().int().min(0),
  seed: z.number().int().min(0),
  /** Epoch ms the deadlines count from; set once by the parent so every worker draws the same tasks. */
  startedAt: z.number().int().min(0),
  batchSize: z.number().int().min(1).max(1000),
  holdBatches: z.number().int().min(0),
  maxBatchRetries: z.number().int().min(0).max(1000),
  blockSize: z.number().int().min(1).max(1000),
  algorithm: z.string().refine((name) => (algorithmNames() as string[]).includes(name), 'unknown algorithm'),
});

export type RunSettings = z.output<typeof runSettingsSchema>;

/** CI-sized defaults; `npm run reliability` raises `tasks` to 10,000. */
export const DEFAULT_SETTINGS: Omit<RunSettings, 'startedAt'> = {
  tasks: 10_000,
  schedulers: 8,
  vms: 40,
  overlapEvery: 10,
  seed: 5,
  batchSize: 25,
  holdBatches: 1,
  maxBatchRetries: 50,
  blockSize: 5,
  algorithm: 'best-fit',
};
