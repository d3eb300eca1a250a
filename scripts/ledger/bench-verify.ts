/**
 * Measures streaming chain verification against plain SHA-256 over the same bytes. Not a test: figures
 * depend on the machine. Usage:
 *   npx tsx scripts/ledger/bench-verify.ts [transactions=1000000] [perBlock=5] [modes=reference,fast,parallel] [runs=1]
 * Writes the chain to a temporary JSON Lines file, hashes it once with SHA-256, then verifies it from disk
 * in each mode (runs times, modes back to back in each run), printing time, the ratio to SHA-256 and RSS.
 * 'parallel' is verifyJsonlFileParallel with one worker thread per CPU; 'slices' verifies the same slices
 * one after another on this thread and prints each one's CPU time and the join's, which is what the
 * parallel wall time would be with a free core per worker (process CPU time cannot show it: it sums
 * the threads, and a shared machine may not give the process more than one core at a time).
 */

import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildBlocks,
  canonicalString,
  GENESIS_HASH,
  genesisBlock,
  sha256,
  toTimestamp,
  transactionId,
  verifyJsonlFile,
} from '../../lib/ledger';
import { joinSlices } from '../../lib/ledger/parallel-join';
import { verifyRange } from '../../lib/ledger/parallel-range';
import { lineAlignedRanges, verifyJsonlFileParallel } from '../../lib/ledger/parallel-verify';
import type { ChainHead, Transaction } from '../../lib/ledger/types';

const total = Number(process.argv[2] ?? 1_000_000);
const perBlock = Number(process.argv[3] ?? 5);
const modes = (process.argv[4] ?? 'reference,fast,parallel').split(',');
const runs = Number(process.argv[5] ?? 1);
const workers = Math.min(availableParallelism(), 8);
const dir = mkdtempSync(join(tmpdir(), 'ledger-bench-'));
const file = join(dir, 'chain.jsonl');
const T0 = Date.UTC(2026, 10, 21, 6);

function transaction(i: number): Transaction {
  const taskId = `task-${i}`;
  const requirements = { bw: i % 100, cpu: 100 + (i % 900), io: i % 50, mem: 256 + (i % 4096) };
  return {
    transaction_id: transactionId(taskId, 'decision'),
    timestamp: toTimestamp(T0 + i),
    task_id: taskId,
    vm_id: `vm-${i % 40}`,
    status: 'assigned',
    algorithm: 'least-loaded',
    score: (i % 1000) / 1000,
    reason: 'lowest normalised load',
    task_requirements: requirements,
    vm_state_before: {
      reserved: { bw: 0, cpu: 0, io: 0, mem: 0 },
      usage: { bw: 1, cpu: 40, io: 0, mem: 300 },
      active_tasks: i % 7,
    },
    vm_state_after: {
      reserved: requirements,
      usage: { bw: 1, cpu: 40, io: 0, mem: 300 },
      active_tasks: (i % 7) + 1,
    },
  };
}

try {
  let t = performance.now();
  const out = createWriteStream(file);
  out.write(`${canonicalString(genesisBlock())}\n`);
  let head: ChainHead = { height: 0, hash: GENESIS_HASH };
  const batch = 1000;
  for (let start = 0; start < total; start += batch) {
    const txs = Array.from({ length: Math.min(batch, total - start) }, (_, k) => transaction(start + k));
    const blocks = buildBlocks(head, txs, { maxPerBlock: perBlock, timestamp: toTimestamp(T0) });
    const last = blocks[blocks.length - 1]!;
    head = { height: last.height, hash: last.block_hash };
    if (!out.write(blocks.map((b) => `${canonicalString(b)}\n`).join(''))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const bytes = statSync(file).size;
  console.log(
    `built ${total} transactions in ${head.height} blocks, ${(bytes / 1e6).toFixed(0)} MB, ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  // The reference mode is the verifier before the fast path (zod and `canonicalize` on everything).
  const cpuSecondsOf: Record<string, number[]> = {};
  const wallSecondsOf: Record<string, number[]> = {};
  for (let run = 0; run < runs; run++) {
    for (const mode of modes) {
      t = performance.now();
      const cpu = process.cpuUsage();
      let report: { valid: boolean; transactions_checked: number } | null;
      if (mode === 'slices') report = await slices(file, head);
      else if (mode === 'parallel') {
        report = await verifyJsonlFileParallel(file, { expectedHead: head, workers, minBytes: 0 });
      } else if (mode === 'fast' || mode === 'reference') {
        report = await verifyJsonlFile(file, { expectedHead: head, mode });
      } else throw new Error(`unknown mode ${mode}`);
      const verifySeconds = (performance.now() - t) / 1000;
      const { user, system } = process.cpuUsage(cpu);
      const cpuSeconds = (user + system) / 1e6;
      const rss = process.memoryUsage().rss;
      if (report === null || !report.valid) throw new Error(`${mode}: the chain did not verify`);
      console.log(
        `verify (${mode}): valid=${report.valid} ${report.transactions_checked} transactions in ${verifySeconds.toFixed(1)} s ` +
          `(${Math.round(report.transactions_checked / verifySeconds)} tx/s wall), ${cpuSeconds.toFixed(1)} s CPU ` +
          `(${Math.round(report.transactions_checked / cpuSeconds)} tx/CPU-s), rss ${(rss / 1e6).toFixed(0)} MB`,
      );
      cpuSecondsOf[mode] = [...(cpuSecondsOf[mode] ?? []), cpuSeconds];
      wallSecondsOf[mode] = [...(wallSecondsOf[mode] ?? []), verifySeconds];
    }
  }

  // Hashed after verifying, so the whole file held in memory does not count in the verifiers' RSS.
  const contents = readFileSync(file);
  const before = process.cpuUsage();
  sha256(contents);
  const hashCpu = process.cpuUsage(before);
  const shaSeconds = (hashCpu.user + hashCpu.system) / 1e6;
  console.log(
    `plain SHA-256 of the file: ${shaSeconds.toFixed(2)} s CPU (${Math.round(total / shaSeconds)} tx/CPU-s)`,
  );

  // bench/ledger.ts's baseline: one hash per block line, as a verifier hashing raw lines would pay.
  const beforeLines = process.cpuUsage();
  for (
    let start = 0, end = contents.indexOf(0x0a);
    end !== -1;
    start = end + 1, end = contents.indexOf(0x0a, start)
  ) {
    sha256(contents.subarray(start, end));
  }
  const linesCpu = process.cpuUsage(beforeLines);
  const lineSeconds = (linesCpu.user + linesCpu.system) / 1e6;
  console.log(
    `SHA-256 per line: ${lineSeconds.toFixed(2)} s CPU (${Math.round(total / lineSeconds)} tx/CPU-s)`,
  );

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [mode, all] of Object.entries(cpuSecondsOf)) {
    const seconds = median(all);
    const wall = median(wallSecondsOf[mode]!);
    console.log(
      `verify_vs_sha256 (${mode}, median of ${all.length}): CPU time ${(shaSeconds / seconds).toFixed(4)} against the whole file, ` +
        `${(lineSeconds / seconds).toFixed(4)} against per-line hashing; wall ${(lineSeconds / wall).toFixed(4)} against per-line hashing`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The parallel verifier's work done on this thread, slice after slice: prints each slice's CPU time and
 * the join's, and the critical path (longest slice + join) as a projected wall time.
 */
async function slices(path: string, expectedHead: ChainHead) {
  const ranges = await lineAlignedRanges(path, statSync(path).size, workers);
  const sliceSeconds: number[] = [];
  const summaries = [];
  for (const range of ranges) {
    const before = process.cpuUsage();
    summaries.push(await verifyRange(path, range));
    const { user, system } = process.cpuUsage(before);
    sliceSeconds.push((user + system) / 1e6);
  }
  const before = process.cpuUsage();
  const report = joinSlices(summaries, { expectedHead });
  const { user, system } = process.cpuUsage(before);
  const joinSeconds = (user + system) / 1e6;
  const critical = Math.max(...sliceSeconds) + joinSeconds;
  console.log(
    `slices: ${sliceSeconds.map((x) => x.toFixed(2)).join(' + ')} s CPU, join ${joinSeconds.toFixed(2)} s; ` +
      `critical path ${critical.toFixed(2)} s` +
      (report ? ` (${Math.round(report.transactions_checked / critical)} tx/s with a core per slice)` : ''),
  );
  return report;
}
