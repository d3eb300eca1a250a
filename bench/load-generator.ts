import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseOrThrow } from '../lib/errors';
import { median, quantile } from './stats';

/**
 * A closed-loop load generator for the local runtime, run as its own process so that it does not
 * share an event loop (or a CPU profile) with the server it measures. `concurrency` workers each
 * POST /tasks with `batch` tasks, then poll GET /tasks/{id} of the request's LAST task until it is
 * recorded in the ledger (any status other than "queued"), and start over. Latency is from sending
 * the POST to seeing the commit, so it includes intake, queueing, scheduling and the durable SQLite
 * commit, plus up to one poll interval. Bounded by `tasks` and by `seconds`; loopback only.
 *
 *   node --import tsx bench/load-generator.ts --url http://127.0.0.1:PORT --tasks 100000
 *
 * Prints one JSON object.
 */

const argsSchema = z.object({
  url: z
    .url()
    .refine(
      (u) => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(u).hostname),
      'loopback addresses only',
    ),
  tasks: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  batch: z.coerce.number().int().min(1).max(1000).default(100),
  concurrency: z.coerce.number().int().min(1).max(256).default(16),
  seconds: z.coerce.number().positive().max(600).default(60),
  pollMs: z.coerce.number().int().min(1).max(1000).default(2),
  prefix: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/)
    .default('bench'),
});

export interface LoadResult {
  tasks: number;
  requests: number;
  seconds: number;
  tasks_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** Final statuses of the polled tasks. */
  statuses: Record<string, number>;
  /** Responses other than 202 to POST (e.g. 429 when the queue is full); those requests are retried. */
  refused: number;
  timed_out: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(): Promise<LoadResult> {
  const { values } = parseArgs({
    options: Object.fromEntries(Object.keys(argsSchema.shape).map((k) => [k, { type: 'string' as const }])),
    strict: true,
  });
  const args = parseOrThrow(argsSchema, values, 'invalid load generator options');
  const base = args.url.replace(/\/$/, '');
  const deadline = Date.now() + args.seconds * 1000;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  let sent = 0;
  let refused = 0;
  let timedOut = false;
  const nowS = Math.floor(Date.now() / 1000);

  const worker = async (): Promise<void> => {
    while (next < args.tasks) {
      if (Date.now() > deadline) {
        timedOut = true;
        return;
      }
      const from = next;
      const count = Math.min(args.batch, args.tasks - from);
      next += count;
      const body = Array.from({ length: count }, (_, k) => ({
        id: `${args.prefix}-${from + k}`,
        cpu: 50 + ((from + k) % 200),
        mem: 64 + ((from + k) % 256),
        io: 1,
        bw: 1,
        duration: 1,
        deadline: nowS + 3600,
      }));
      const lastId = body[body.length - 1]!.id;
      const t0 = performance.now();
      for (;;) {
        const response = await fetch(`${base}/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        await response.arrayBuffer();
        if (response.status === 202) break;
        refused++;
        if (Date.now() > deadline) {
          timedOut = true;
          return;
        }
        await sleep(20);
      }
      sent += count;
      for (;;) {
        const response = await fetch(`${base}/tasks/${lastId}`);
        const status = response.ok
          ? ((await response.json()) as { status: string }).status
          : `http-${response.status}`;
        if (!response.ok && response.status !== 404)
          throw new Error(`GET /tasks/${lastId}: ${response.status}`);
        if (response.ok && status !== 'queued') {
          latencies.push(performance.now() - t0);
          statuses[status] = (statuses[status] ?? 0) + 1;
          break;
        }
        if (Date.now() > deadline) {
          timedOut = true;
          return;
        }
        await sleep(args.pollMs);
      }
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    tasks: sent,
    requests: latencies.length,
    seconds,
    tasks_per_s: sent / seconds,
    p50_ms: median(latencies),
    p99_ms: quantile(latencies, 0.99),
    statuses,
    refused,
    timed_out: timedOut,
  };
}

process.stdout.write(`${JSON.stringify(await run())}\n`);
