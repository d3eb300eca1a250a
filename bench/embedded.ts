import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult } from './load-generator';
import { round, spread } from './stats';

export interface EmbeddedFigures {
  /** Median over runs. */
  tasks_per_s: number;
  p50_ms: number;
  p99_ms: number;
  runs: number;
  tasks_per_run: number;
  batch: number;
  concurrency: number;
  spread: { tasks_per_s: [number, number]; p50_ms: [number, number]; p99_ms: [number, number] };
  statuses: Record<string, number>;
  refused: number;
  /**
   * One client sending one request at a time (no queueing behind other clients): the latency of a
   * request of 100 tasks through intake, queue, scheduling and commit on an otherwise idle runtime.
   */
  unloaded: { p50_ms: number; p99_ms: number; requests: number };
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Starts `bcs start` on a free loopback port with a fresh data directory; resolves with its URL. */
function startRuntime(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
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
        '100',
        // What is measured is intake to a committed decision. The offered load is above what 100 VMs
        // run at once, and a task that waits for room (the default, up to 900 s) commits only when a
        // VM frees up: the figure would be the simulated fleet's capacity, not the runtime's. With
        // --max-wait 0 a task that finds no room is decided (rejected) at once, as before waiting existed.
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

/**
 * The real local runtime (`node bin/bcs.js start`, SQLite with the runtime's default synchronous=NORMAL unless BENCH_SYNCHRONOUS is set, 100 simulated
 * VMs) loaded by bench/load-generator.ts in a separate process: requests of 100 tasks, measured
 * from the POST to the task's durable commit. A fresh runtime and data directory per run.
 */
export async function benchEmbedded(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<EmbeddedFigures> {
  const runs = options.quick ? 1 : 3;
  const load = {
    tasks: options.quick ? 5_000 : 60_000,
    batch: 100,
    concurrency: 16,
    seconds: options.quick ? 30 : 90,
  };
  const results: LoadResult[] = [];
  const unloaded: LoadResult[] = [];
  for (let r = 0; r < runs; r++) {
    // Under bench/results (git-ignored), not the shared /tmp that other jobs clean; BENCH_TMPDIR overrides.
    const base = process.env.BENCH_TMPDIR ?? join(ROOT, 'bench', 'results');
    mkdirSync(base, { recursive: true });
    const dataDir = mkdtempSync(join(base, 'embedded-'));
    const { child, url } = await startRuntime(dataDir);
    try {
      const light = await runLoad(url, {
        tasks: 3000,
        batch: 100,
        concurrency: 1,
        seconds: 60,
        prefix: `light${r}`,
      });
      unloaded.push(light);
      const result = await runLoad(url, { ...load, prefix: `run${r}` });
      options.log(
        `  run ${r + 1}/${runs}: ${Math.round(result.tasks_per_s)} tasks/s, p50 ${result.p50_ms.toFixed(1)} ms, p99 ${result.p99_ms.toFixed(1)} ms; one client: p50 ${light.p50_ms.toFixed(1)} ms`,
      );
      results.push(result);
    } finally {
      await stop(child);
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const rate = spread(results.map((r) => r.tasks_per_s));
  const p50 = spread(results.map((r) => r.p50_ms));
  const p99 = spread(results.map((r) => r.p99_ms));
  const statuses: Record<string, number> = {};
  for (const r of results)
    for (const [s, n] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
  return {
    tasks_per_s: round(rate.median),
    p50_ms: round(p50.median),
    p99_ms: round(p99.median),
    runs,
    tasks_per_run: load.tasks,
    batch: load.batch,
    concurrency: load.concurrency,
    spread: {
      tasks_per_s: [round(rate.min), round(rate.max)],
      p50_ms: [round(p50.min), round(p50.max)],
      p99_ms: [round(p99.min), round(p99.max)],
    },
    statuses,
    refused: results.reduce((s, r) => s + r.refused, 0),
    unloaded: {
      p50_ms: round(spread(unloaded.map((r) => r.p50_ms)).median),
      p99_ms: round(spread(unloaded.map((r) => r.p99_ms)).median),
      requests: unloaded.reduce((s, r) => s + r.requests, 0),
    },
  };
}
