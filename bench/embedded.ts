import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './load-generator';
import { round, spread } from './stats';

export interface OpenLoopFigures {
  rate_per_s: number;
  /** Of the saturation rate measured in the same run. */
  fraction: number;
  p50_ms: number;
  p99_ms: number;
  /** Runs min–max. */
  spread: { p50_ms: [number, number]; p99_ms: [number, number] };
  max_send_lag_ms: number;
}

export interface EmbeddedFigures {
  /** Placed (assigned) tasks per second at saturation, closed loop; median over runs. */
  tasks_per_s: number;
  /** Enqueue to committed decision at a constant rate of half the saturation rate (open loop). */
  p50_ms: number;
  p99_ms: number;
  /** Every task of every run by its final status in the ledger (completed, assigned = still running, rejected, expired). */
  statuses: Record<string, number>;
  /** Placed share of decided tasks, over all runs. */
  placed_share: number;
  /** Decided (placed or rejected) tasks per second at saturation; the open-loop rates are fractions of it. */
  decided_per_s: number;
  open_loop: OpenLoopFigures[];
  /** The closed loop's own latency at saturation (queueing by construction: Little's law). */
  closed_loop: { p50_ms: number; p99_ms: number };
  vms: number;
  runs: number;
  tasks_per_run: number;
  batch: number;
  concurrency: number;
  spread: { tasks_per_s: [number, number]; p50_ms: [number, number]; p99_ms: [number, number] };
  refused: number;
  /**
   * CPU time per placed task during the closed loop at saturation (median over runs), ms: the
   * runtime's process (every thread: HTTP, scheduler thread, simulated fleet, completions) and the
   * load generator's. With the machine's core count they bound the rate this machine can reach
   * however the work is overlapped: cores / (server + load_generator). Null where the server's CPU
   * time cannot be read (/proc/<pid>/stat is Linux only).
   */
  cpu_ms_per_placed_task: { server: number; load_generator: number; ceiling_per_s: number } | null;
  /**
   * One client sending one request at a time (no queueing behind other clients): the latency of a
   * request of 100 tasks through intake, queue, scheduling and commit on an otherwise idle runtime.
   */
  unloaded: { p50_ms: number; p99_ms: number; requests: number };
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Starts `bcs start` on a free loopback port with a fresh data directory; resolves with its URL. */
function startRuntime(dataDir: string, vms: number): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    // BENCH_PROFILE_DIR: write a V8 CPU profile of the server there (on graceful shutdown).
    const profile = process.env.BENCH_PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
      : [];
    const child = spawn(
      process.execPath,
      [
        ...profile,
        'bin/bcs.js',
        'start',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--vms',
        String(vms),
        // The fleet is sized so that nearly every task finds room (placed_share reports it): the
        // figure is placed work, the runtime's capacity, not the simulated fleet's. A task that
        // still finds no room is decided (rejected) at once rather than waiting for a VM to free up,
        // so that a full fleet cannot pass for a slow runtime; it counts against placed_share.
        '--max-wait',
        '0',
        ...(process.env.BENCH_SYNCHRONOUS ? ['--synchronous', process.env.BENCH_SYNCHRONOUS] : []),
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bcs start did not report its URL within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /bcs listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve({ child, url: match[1]! });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bcs start exited with ${code} before listening:\n${output}`));
    });
  });
}

function cpuNote(server: number[], generator: number[]): string {
  if (server.length === 0) return '';
  return `; CPU per placed task: runtime ${server.at(-1)!.toFixed(3)} ms, load generator ${generator.at(-1)!.toFixed(3)} ms`;
}

/** CPU time of a live process, every thread, user + system, ms; null off Linux. */
function processCpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields 14 and 15 of /proc/<pid>/stat (utime, stime) in clock ticks; the command name (field 2)
    // may hold spaces, so count from the closing parenthesis. Clock ticks are 100 a second on Linux.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function runLoad(url: string, args: Record<string, string | number>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const flags = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/load-generator.ts', '--url', url, ...flags],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited with ${code}: ${err}`));
      resolve(JSON.parse(out) as LoadResult);
    });
  });
}

interface LedgerCounts {
  assignments: number;
  rejections: number;
  completed: number;
  expired: number;
}

async function ledgerCounts(url: string): Promise<LedgerCounts> {
  const response = await fetch(`${url}/ledger`);
  if (!response.ok) throw new Error(`GET /ledger: ${response.status}`);
  const { assignments, rejections, completed, expired } = (await response.json()) as LedgerCounts;
  return { assignments, rejections, completed, expired };
}

function minus(a: LedgerCounts, b: LedgerCounts): LedgerCounts {
  return {
    assignments: a.assignments - b.assignments,
    rejections: a.rejections - b.rejections,
    completed: a.completed - b.completed,
    expired: a.expired - b.expired,
  };
}

/**
 * The real local runtime (`node bin/bcs.js start`, SQLite with the runtime's default
 * synchronous=NORMAL unless BENCH_SYNCHRONOUS is set) with a simulated fleet big enough that nearly
 * every task is placed, loaded by bench/load-generator.ts in a separate process. Per run, on a fresh
 * runtime and data directory:
 * 1. one client, one request of 100 tasks at a time (no queueing): the unloaded latency;
 * 2. closed loop, 16 clients x 100 tasks per request: the saturation rate, counted as placed tasks
 *    per second from the ledger (assignments written during the run / its wall time);
 * 3. open loop at 50 % and 80 % of that run's decided rate: enqueue-to-committed-decision latency
 *    from each request's due time.
 */
export async function benchEmbedded(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<EmbeddedFigures> {
  const runs = options.quick ? 1 : 3;
  // 1,000 VMs of 4,000 millicores hold about 26,000 of these 1 s tasks at once: far above the rate.
  const vms = 1000;
  const load = {
    tasks: options.quick ? 5_000 : 60_000,
    batch: 100,
    concurrency: 16,
    seconds: options.quick ? 30 : 90,
  };
  const fractions = [0.5, 0.8];
  const openSeconds = options.quick ? 10 : 30;
  const results: LoadResult[] = [];
  const placedRates: number[] = [];
  const decidedRates: number[] = [];
  const unloaded: LoadResult[] = [];
  const serverCpu: number[] = [];
  const generatorCpu: number[] = [];
  const open: LoadResult[][] = fractions.map(() => []);
  const statuses: Record<string, number> = { completed: 0, assigned: 0, rejected: 0, expired: 0 };
  for (let r = 0; r < runs; r++) {
    // Under bench/results (git-ignored), not the shared /tmp that other jobs clean; BENCH_TMPDIR overrides.
    const base = process.env.BENCH_TMPDIR ?? join(ROOT, 'bench', 'results');
    mkdirSync(base, { recursive: true });
    const dataDir = mkdtempSync(join(base, 'embedded-'));
    const { child, url } = await startRuntime(dataDir, vms);
    try {
      const light = await runLoad(url, {
        tasks: 3000,
        batch: 100,
        concurrency: 1,
        seconds: 60,
        prefix: `light${r}`,
      });
      unloaded.push(light);
      const before = await ledgerCounts(url);
      const cpuBefore = processCpuMs(child.pid);
      const result = await runLoad(url, { ...load, prefix: `run${r}` });
      const cpuAfter = processCpuMs(child.pid);
      const during = minus(await ledgerCounts(url), before);
      if (cpuBefore !== null && cpuAfter !== null && during.assignments > 0) {
        serverCpu.push((cpuAfter - cpuBefore) / during.assignments);
        generatorCpu.push(result.cpu_ms / during.assignments);
      }
      const placed = during.assignments / result.seconds;
      const decided = (during.assignments + during.rejections) / result.seconds;
      placedRates.push(placed);
      decidedRates.push(decided);
      results.push(result);
      options.log(
        `  run ${r + 1}/${runs}: ${Math.round(placed)} placed tasks/s (${Math.round(decided)} decided), closed-loop p99 ${result.p99_ms.toFixed(1)} ms; one client: p50 ${light.p50_ms.toFixed(1)} ms${cpuNote(serverCpu, generatorCpu)}`,
      );
      for (const [i, fraction] of fractions.entries()) {
        const rate = Math.max(100, Math.round(decided * fraction));
        const measured = await runLoad(url, {
          rate,
          tasks: Math.round(rate * openSeconds),
          batch: 100,
          seconds: openSeconds * 3,
          prefix: `open${r}-${i}`,
        });
        open[i]!.push(measured);
        options.log(
          `    open loop at ${rate} tasks/s (${fraction * 100} %): p50 ${measured.p50_ms.toFixed(1)} ms, p99 ${measured.p99_ms.toFixed(1)} ms`,
        );
      }
      // Final statuses of every task this runtime took (all three loads): once the simulated fleet has
      // run what it placed (1 s tasks), or after 60 s, whichever comes first.
      let total = await ledgerCounts(url);
      for (
        let waited = 0;
        total.assignments > total.completed + total.expired && waited < 60_000;
        waited += 500
      ) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        total = await ledgerCounts(url);
      }
      statuses.completed! += total.completed;
      statuses.assigned! += total.assignments - total.completed - total.expired;
      statuses.rejected! += total.rejections;
      statuses.expired! += total.expired;
    } finally {
      await stop(child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const rate = spread(placedRates);
  const p50 = spread(results.map((r) => r.p50_ms));
  const p99 = spread(results.map((r) => r.p99_ms));
  const openLoop: OpenLoopFigures[] = fractions.map((fraction, i) => {
    const o = open[i]!;
    const p50s = spread(o.map((x) => x.p50_ms));
    const p99s = spread(o.map((x) => x.p99_ms));
    return {
      rate_per_s: round(spread(o.map((x) => x.rate_per_s ?? 0)).median),
      fraction,
      p50_ms: round(p50s.median),
      p99_ms: round(p99s.median),
      spread: { p50_ms: [round(p50s.min), round(p50s.max)], p99_ms: [round(p99s.min), round(p99s.max)] },
      max_send_lag_ms: round(Math.max(...o.map((x) => x.max_send_lag_ms ?? 0))),
    };
  });
  const server = serverCpu.length > 0 ? spread(serverCpu).median : null;
  const generator = generatorCpu.length > 0 ? spread(generatorCpu).median : null;
  const placedTotal = statuses.completed! + statuses.assigned! + statuses.expired!;
  return {
    tasks_per_s: round(rate.median),
    p50_ms: openLoop[0]!.p50_ms,
    p99_ms: openLoop[0]!.p99_ms,
    statuses,
    placed_share: round(placedTotal / Math.max(1, placedTotal + statuses.rejected!), 4),
    decided_per_s: round(spread(decidedRates).median),
    open_loop: openLoop,
    closed_loop: { p50_ms: round(p50.median), p99_ms: round(p99.median) },
    vms,
    runs,
    tasks_per_run: load.tasks,
    batch: load.batch,
    concurrency: load.concurrency,
    spread: {
      tasks_per_s: [round(rate.min), round(rate.max)],
      p50_ms: [round(p50.min), round(p50.max)],
      p99_ms: [round(p99.min), round(p99.max)],
    },
    refused: results.reduce((s, r) => s + r.refused, 0),
    cpu_ms_per_placed_task:
      server === null || generator === null
        ? null
        : {
            server: round(server, 4),
            load_generator: round(generator, 4),
            ceiling_per_s: round((availableParallelism() * 1000) / (server + generator)),
          },
    unloaded: {
      p50_ms: round(spread(unloaded.map((r) => r.p50_ms)).median),
      p99_ms: round(spread(unloaded.map((r) => r.p99_ms)).median),
      requests: unloaded.reduce((s, r) => s + r.requests, 0),
    },
  };
}
