import { parseArgs } from 'node:util';
import * as z from 'zod';
import { parseOrThrow } from '../lib/errors';
import { median, quantile } from './stats';

/**
 * A load generator for the local runtime, run as its own process so that it does not share an event
 * loop (or a CPU profile) with the server it measures. Bounded by `tasks` and by `seconds`; loopback
 * only. Prints one JSON object.
 *
 * Closed loop (default): `concurrency` workers each POST /tasks with `batch` tasks, then poll
 * GET /tasks/{id} of the request's LAST task until it is recorded in the ledger (any status other
 * than "queued"), and start over. Latency is from sending the POST to seeing the commit, so it
 * includes intake, queueing, scheduling and the durable SQLite commit, plus up to one poll interval.
 * This finds the saturation rate; its latency is large by construction (Little's law).
 *
 * Open loop (`--rate R`, tasks per second): request k is due at start + k * batch / R whatever
 * happened to earlier requests, and its latency runs from that due time, not from when it was
 * actually sent, so a stall in the server (or in this process) shows up in the figures instead of
 * silently lowering the offered rate (coordinated omission).
 *
 *   node --import tsx bench/load-generator.ts --url http://127.0.0.1:PORT --tasks 100000
 *   node --import tsx bench/load-generator.ts --url http://127.0.0.1:PORT --rate 4000 --seconds 30
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
  /** Open loop at this many tasks per second; unset, closed loop with `concurrency` workers. */
  rate: z.coerce.number().positive().max(1_000_000).optional(),
  /** Task duration in seconds, as the simulated fleet runs it. */
  duration: z.coerce.number().positive().max(3600).default(1),
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
  /** CPU time this generator process spent during the load (user + system), ms. */
  cpu_ms: number;
  /** Open loop only: the offered rate, tasks/s, and the most any request was sent after its due time, ms. */
  rate_per_s?: number;
  max_send_lag_ms?: number;
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

  const makeBody = (from: number, count: number) =>
    Array.from({ length: count }, (_, k) => ({
      id: `${args.prefix}-${from + k}`,
      cpu: 50 + ((from + k) % 200),
      mem: 64 + ((from + k) % 256),
      io: 1,
      bw: 1,
      duration: args.duration,
      deadline: nowS + 3600,
    }));

  /** POSTs until accepted, then polls the last task until decided; latency from `t0`. False on time-out. */
  const sendAndWait = async (from: number, count: number, t0: number): Promise<boolean> => {
    const body = makeBody(from, count);
    const lastId = body[body.length - 1]!.id;
    for (;;) {
      const response = await fetch(`${base}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await response.arrayBuffer();
      if (response.status === 202) break;
      refused++;
      if (Date.now() > deadline) return false;
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
        return true;
      }
      if (Date.now() > deadline) return false;
      await sleep(args.pollMs);
    }
  };

  const worker = async (): Promise<void> => {
    while (next < args.tasks) {
      if (Date.now() > deadline) {
        timedOut = true;
        return;
      }
      const from = next;
      const count = Math.min(args.batch, args.tasks - from);
      next += count;
      if (!(await sendAndWait(from, count, performance.now()))) {
        timedOut = true;
        return;
      }
    }
  };

  /** Open loop: every request on its own schedule; nothing waits for an earlier answer. */
  let maxLag = 0;
  const openLoop = async (rate: number): Promise<void> => {
    const interval = (args.batch / rate) * 1000;
    const t = performance.now();
    const pending: Promise<void>[] = [];
    for (let k = 0; k * args.batch < args.tasks; k++) {
      const due = t + k * interval;
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      maxLag = Math.max(maxLag, performance.now() - due);
      const from = k * args.batch;
      pending.push(
        sendAndWait(from, Math.min(args.batch, args.tasks - from), due).then((done) => {
          if (!done) timedOut = true;
        }),
      );
    }
    await Promise.all(pending);
  };

  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  if (args.rate === undefined) await Promise.all(Array.from({ length: args.concurrency }, worker));
  else await openLoop(args.rate);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
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
    cpu_ms: (cpu.user + cpu.system) / 1000,
    ...(args.rate === undefined ? {} : { rate_per_s: args.rate, max_send_lag_ms: maxLag }),
  };
}

process.stdout.write(`${JSON.stringify(await run())}\n`);
