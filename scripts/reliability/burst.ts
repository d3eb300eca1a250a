import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { quantile, round } from '../../bench/stats';
import { parseOrThrow } from '../../lib/errors';
import { parseJsonl } from '../../lib/ledger/jsonl';
import type { Block } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import { startServer } from '../../tests/local/helpers/server';

/**
 * `node --import tsx scripts/reliability/burst.ts [--steady 20] [--burst 60] [--factor 10]`
 *
 * A burst through the local HTTP API. First the steady rate: the tasks per second the runtime
 * decides while a client keeps the backlog bounded. Then `factor` times that rate, open loop, for
 * `burst` seconds. Every answer must be 202, or 429/503 with Retry-After; afterwards every task a
 * 202 accepted is decided exactly once in the ledger (or still queued), no refused task is
 * written, no task is accepted twice, and the chain verifies. Prints the figures as JSON; exits 1
 * on any finding. tests/local/reliability/burst.test.ts runs the same at CI size.
 */

export const burstSettingsSchema = z.object({
  /** Seconds of the steady-rate measurement. */
  steady: z.coerce.number().positive().max(600).default(20),
  /** Seconds of the burst. */
  burst: z.coerce.number().positive().max(600).default(60),
  /** Burst rate over the steady rate. */
  factor: z.coerce.number().positive().max(100).default(10),
  /** Tasks per POST. */
  tasksPerRequest: z.coerce.number().int().min(1).max(1000).default(100),
  /** Requests in flight at most; the pacer falls behind (and says so) beyond it. */
  maxInFlight: z.coerce.number().int().min(1).max(1000).default(64),
  /** Every n-th request re-sends an earlier request's tasks: accepted ones must come back duplicates. */
  resendEvery: z.coerce.number().int().min(2).max(1000).default(10),
  /** The runtime's max_queue_depth: a 10x burst fills it, so 429 is exercised. */
  maxQueueDepth: z.coerce.number().int().min(1).max(1_000_000).default(2000),
  /** Seconds to wait after the burst for the queue to drain before the remainder is checked as queued. */
  drain: z.coerce.number().positive().max(3600).default(300),
  /** Simulated VMs. */
  vms: z.coerce.number().int().min(1).max(1000).default(16),
});
export type BurstSettings = z.output<typeof burstSettingsSchema>;

export interface BurstFigures {
  steady_tasks_per_s: number;
  offered_tasks_per_s: number;
  /** Tasks actually sent per second of burst (below offered when the pacer fell behind). */
  sent_tasks_per_s: number;
  burst_s: number;
  requests: number;
  status: Record<string, number>;
  tasks_sent: number;
  tasks_accepted: number;
  accepted_tasks_per_s: number;
  resent_tasks_reported_duplicate: number;
  latency_ms_p50: number;
  latency_ms_p99: number;
  latency_ms_max: number;
  drain_s: number;
  decided: number;
  still_queued: number;
  blocks: number;
}

export interface BurstResult {
  figures: BurstFigures;
  /** Broken invariants; empty when sound. */
  findings: string[];
}

interface Answer {
  status: number | 'network';
  retryAfter: string | null;
  ids: string[];
  accepted: string[];
  duplicates: string[];
  ms: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// One deadline for the whole run: a resent batch must carry the same bodies, or the intake answers 409
// (same id, different body) instead of recognising the repeat.
const deadline = Math.floor(Date.now() / 1000) + 86_400;

function tasksBody(ids: string[]): string {
  // Short tasks on a fast simulation: VMs free up during the run, so decisions are placements too.
  return JSON.stringify(
    ids.map((id, i) => ({ id, cpu: 100 + (i % 7) * 50, mem: 256, deadline, duration: 5 })),
  );
}

async function post(url: string, ids: string[]): Promise<Answer> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: tasksBody(ids),
    });
    const body = (await res.json()) as { accepted?: string[]; duplicates?: string[] };
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      ids,
      accepted: res.status === 202 ? (body.accepted ?? []) : [],
      duplicates: res.status === 202 ? (body.duplicates ?? []) : [],
      ms: performance.now() - t0,
    };
  } catch {
    return {
      status: 'network',
      retryAfter: null,
      ids,
      accepted: [],
      duplicates: [],
      ms: performance.now() - t0,
    };
  }
}

async function decidedCount(url: string): Promise<number> {
  const s = (await (await fetch(`${url}/ledger`)).json()) as { assignments: number; rejections: number };
  return s.assignments + s.rejections;
}

/**
 * Tasks decided per second while the backlog stays under half the queue bound: what the runtime
 * sustains, not what it can absorb for a moment.
 */
async function steadyRate(
  url: string,
  s: BurstSettings,
  prefix: string,
): Promise<{ rate: number; accepted: number; before: number }> {
  const window = Math.max(s.tasksPerRequest, Math.floor(s.maxQueueDepth / 2));
  const before = await decidedCount(url);
  let submitted = before;
  let decided = submitted;
  let n = 0;
  const warmupEnd = performance.now() + 1000;
  let start: { at: number; decided: number } | undefined;
  const end = warmupEnd + s.steady * 1000;
  while (performance.now() < end) {
    decided = await decidedCount(url);
    if (start === undefined && performance.now() >= warmupEnd) start = { at: performance.now(), decided };
    if (submitted - decided < window) {
      const ids = Array.from({ length: s.tasksPerRequest }, () => `${prefix}s-${n++}`);
      const a = await post(url, ids);
      submitted += a.accepted.length;
    } else {
      await sleep(20);
    }
  }
  const finalDecided = await decidedCount(url);
  const from = start ?? { at: warmupEnd, decided };
  return {
    rate: (finalDecided - from.decided) / ((performance.now() - from.at) / 1000),
    accepted: submitted - before,
    before,
  };
}

async function exportedBlocks(url: string): Promise<Block[]> {
  const blocks: Block[] = [];
  const text = await (await fetch(`${url}/ledger/export`)).text();
  for await (const b of parseJsonl(text.split('\n'))) blocks.push(b);
  return blocks;
}

/** Runs the steady measurement and the burst against a running `bcs start` at `url`. */
export async function runBurst(url: string, s: BurstSettings, prefix = 'b'): Promise<BurstResult> {
  const findings: string[] = [];
  const steady = await steadyRate(url, s, prefix);
  if (!(steady.rate > 0)) throw new Error(`no steady rate measured (${steady.rate} tasks/s)`);
  const offered = steady.rate * s.factor;
  const interval = (s.tasksPerRequest / offered) * 1000;

  const answers: Answer[] = [];
  const inFlight = new Set<Promise<void>>();
  const sentBatches: string[][] = [];
  let n = 0;
  let requests = 0;
  const t0 = performance.now();
  const end = t0 + s.burst * 1000;
  for (let i = 0; t0 + i * interval < end && performance.now() < end; i++) {
    const due = t0 + i * interval - performance.now();
    if (due > 0) await sleep(due);
    while (inFlight.size >= s.maxInFlight) await Promise.race(inFlight);
    const resend = i > 0 && i % s.resendEvery === 0;
    const ids = resend
      ? sentBatches[Math.floor(Math.random() * sentBatches.length)]!
      : Array.from({ length: s.tasksPerRequest }, () => `${prefix}-${n++}`);
    if (!resend) sentBatches.push(ids);
    requests++;
    const p: Promise<void> = post(url, ids).then((a) => {
      answers.push(a);
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  const burstSeconds = (performance.now() - t0) / 1000;

  // Each answer: a known status, and a retry hint with every refusal.
  const status: Record<string, number> = {};
  for (const a of answers) {
    status[a.status] = (status[a.status] ?? 0) + 1;
    if (a.status === 429 || a.status === 503) {
      if (a.retryAfter === null || !/^\d+$/.test(a.retryAfter))
        findings.push(`a ${a.status} without a Retry-After in seconds`);
    } else if (a.status !== 202) findings.push(`answered ${a.status}`);
  }

  // No id accepted twice; a re-sent id that was accepted before comes back as a duplicate.
  const acceptedBy = new Map<string, number>();
  let resentDuplicates = 0;
  for (const a of answers) {
    for (const id of a.accepted) acceptedBy.set(id, (acceptedBy.get(id) ?? 0) + 1);
    resentDuplicates += a.duplicates.length;
  }
  for (const [id, times] of acceptedBy) if (times > 1) findings.push(`${id} accepted ${times} times`);
  const accepted = [...acceptedBy.keys()];
  const sent = new Set(sentBatches.flat());

  // Drain: every accepted task, steady and burst, is one decision.
  const drainStart = performance.now();
  const expected = steady.before + steady.accepted + accepted.length;
  let decidedNow = await decidedCount(url);
  while (decidedNow < expected && performance.now() - drainStart < s.drain * 1000) {
    await sleep(250);
    decidedNow = await decidedCount(url);
  }
  const drainSeconds = (performance.now() - drainStart) / 1000;

  const blocks = await exportedBlocks(url);
  const decisions = new Map<string, number>();
  for (const tx of blocks.flatMap((b) => b.transactions)) {
    if (tx.status === 'assigned' || tx.status === 'rejected')
      decisions.set(tx.task_id, (decisions.get(tx.task_id) ?? 0) + 1);
  }
  for (const [id, times] of decisions) if (times > 1) findings.push(`${id} decided ${times} times`);
  for (const id of sent) {
    if (decisions.has(id) && !acceptedBy.has(id)) findings.push(`${id} was refused but is in the ledger`);
  }
  let stillQueued = 0;
  for (const id of accepted) {
    if (decisions.has(id)) continue;
    const res = await fetch(`${url}/tasks/${encodeURIComponent(id)}`);
    const body = res.ok ? ((await res.json()) as { status: string }) : undefined;
    if (body?.status === 'queued') stillQueued++;
    else findings.push(`${id} was accepted but is neither in the ledger nor queued`);
  }
  const local = await verifyChain(blocks);
  if (!local.valid) findings.push('the exported chain does not verify');
  const remote = (await (await fetch(`${url}/ledger/verify`, { method: 'POST' })).json()) as {
    valid: boolean;
  };
  if (!remote.valid) findings.push('POST /ledger/verify reports the chain invalid');

  const ms = answers.map((a) => a.ms);
  const tasksSent = answers.reduce((sum, a) => sum + a.ids.length, 0);
  return {
    figures: {
      steady_tasks_per_s: round(steady.rate),
      offered_tasks_per_s: round(offered),
      sent_tasks_per_s: round(tasksSent / burstSeconds),
      burst_s: round(burstSeconds),
      requests,
      status,
      tasks_sent: tasksSent,
      tasks_accepted: accepted.length,
      accepted_tasks_per_s: round(accepted.length / burstSeconds),
      resent_tasks_reported_duplicate: resentDuplicates,
      latency_ms_p50: round(quantile(ms, 0.5)),
      latency_ms_p99: round(quantile(ms, 0.99)),
      latency_ms_max: round(Math.max(...ms)),
      drain_s: round(drainSeconds),
      decided: decidedNow,
      still_queued: stillQueued,
      blocks: blocks.length,
    },
    findings,
  };
}

/** The runtime configuration both the script and the CI test start `bcs start` with. */
export function burstServerConfig(s: BurstSettings): Record<string, unknown> {
  // No waiting for capacity: a task that does not fit is rejected at once, so the queue drains.
  return { fleet: { size: s.vms, speed: 50 }, max_wait_s: 0, max_queue_depth: s.maxQueueDepth, seed: 7 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: Object.fromEntries(
      Object.keys(burstSettingsSchema.shape).map((k) => [k, { type: 'string' as const }]),
    ),
  });
  const settings = parseOrThrow(burstSettingsSchema, values, 'burst arguments');
  const server = await startServer({ config: burstServerConfig(settings) });
  try {
    const result = await runBurst(server.url, settings);
    console.log(JSON.stringify({ settings, ...result }, null, 2));
    if (result.findings.length > 0) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
