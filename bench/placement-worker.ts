import { parseArgs } from 'node:util';
import * as z from 'zod';
import { parseOrThrow } from '../lib/errors';
import { benchPlacement } from './placement';

/**
 * One algorithm's placement benchmark in a process of its own, as a runtime runs one algorithm, so
 * that the JIT and heap state left by one configuration cannot colour another's figures (see
 * benchPlacementIsolated). Prints the rows as one JSON array.
 */
const argsSchema = z.object({
  algorithm: z.string().min(1),
  fleets: z
    .string()
    .transform((s) => s.split(',').map(Number))
    .pipe(z.array(z.number().int().positive())),
  batches: z
    .string()
    .transform((s) => s.split(',').map(Number))
    .pipe(z.array(z.number().int().positive())),
  runs: z.coerce.number().int().min(1).max(100),
  budget: z.coerce.number().int().min(1),
});
const { values } = parseArgs({
  options: Object.fromEntries(Object.keys(argsSchema.shape).map((k) => [k, { type: 'string' as const }])),
  strict: true,
});
const args = parseOrThrow(argsSchema, values, 'invalid placement worker options');
const rows = benchPlacement({ ...args, algorithms: [args.algorithm] });
process.stdout.write(`${JSON.stringify(rows)}\n`);
