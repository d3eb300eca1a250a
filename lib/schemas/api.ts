import { z } from 'zod';
import { taskIdSchema } from './task-input';

/**
 * Path and query parameters of the HTTP API (AWS and local runtime alike). Query strings arrive as
 * text, hence the coercion; every bound is explicit so that a client cannot ask for the whole chain
 * in one response.
 */

export const MAX_BLOCKS_PER_PAGE = 100;
export const DEFAULT_BLOCKS_PER_PAGE = 20;

export const taskPathSchema = z.strictObject({ id: taskIdSchema });

export const transactionPathSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._:@/-]{1,128}$/, 'must be 1-128 characters: letters, digits and ._:@/-'),
});

/**
 * A count written in decimal digits. Number() would read "" as 0 and also take "0x10", "1e3" or
 * " 7", so `?from=` silently meant the first block; only digits are a count here.
 */
const decimalCount = z
  .string()
  .regex(/^[0-9]{1,15}$/, 'must be a whole number written in decimal digits')
  .transform(Number);

export const blocksQuerySchema = z.strictObject({
  from: decimalCount.pipe(z.number().int().min(0)).default(0),
  limit: decimalCount.pipe(z.number().int().min(1).max(MAX_BLOCKS_PER_PAGE)).default(DEFAULT_BLOCKS_PER_PAGE),
});

export type BlocksQuery = z.output<typeof blocksQuerySchema>;

/**
 * GET /ledger/consistency: `from` and `to` are tree sizes of the block-hash tree (height + 1), as in
 * RFC 9162's get-sth-consistency; `to` defaults to the current size. Ranges are checked by the reader.
 */
export const consistencyQuerySchema = z.strictObject({
  from: decimalCount.pipe(z.number().int().min(1)),
  to: decimalCount.pipe(z.number().int().min(1)).optional(),
});

/** Body of every 4xx/5xx response: a message, plus the offending fields for validation errors. */
export interface ErrorBody {
  error: string;
  message: string;
  issues?: { field: string; message: string }[];
}
