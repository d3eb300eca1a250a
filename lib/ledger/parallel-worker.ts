import { parentPort, workerData } from 'node:worker_threads';
import * as z from 'zod';
import { parseOrThrow } from '../errors';
import { verifyRange } from './parallel-range';

// workerData comes from parallel-verify.ts in this process, but a worker is an entry point: checked anyway.
const jobSchema = z.strictObject({
  path: z.string().min(1),
  start: z.number().int().min(0),
  end: z.number().int().min(1),
  mode: z.enum(['fast', 'reference']),
});

const job = parseOrThrow(jobSchema, workerData, 'workerData');
parentPort!.postMessage(await verifyRange(job.path, { start: job.start, end: job.end }, job.mode));
