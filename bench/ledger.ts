import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBlocks, GENESIS } from '../lib/ledger/blocks';
import { canonicalString } from '../lib/ledger/canonical';
import { verifyJsonlFileParallel } from '../lib/ledger/parallel-verify';
import { toTimestamp } from '../lib/ledger/time';
import { transactionId } from '../lib/ledger/transactions';
import type { ChainHead, Transaction } from '../lib/ledger/types';
import { type VerifyChainOptions, verifyJsonlFile } from '../lib/ledger/verify';
import { seededRandom } from '../lib/simulation/rng';
import { elapsedUs, nowNs, round, spread } from './stats';

export interface LedgerFigures {
  transactions: number;
  /** Transactions per block, as the engine writes them by default. */
  block_size: number;
  /** buildBlocks (validate, canonicalise, hash, Merkle root, link) over batches of 100. */
  build_tx_per_s: number;
  /** verifyJsonlFile (streamed read, JSON parse, validation, canonical re-hash, links) over the export on disk. */
  verify_tx_per_s: number;
  /** Plain SHA-256 over the same exported bytes, one hash per block line. */
  sha256_tx_per_s: number;
  verify_vs_sha256: number;
  /** verifyJsonlFileParallel (worker threads, one slice of the file each), same file and checks. */
  verify_parallel_tx_per_s?: number;
  verify_parallel_vs_sha256?: number;
  verify_workers?: number;
  export_bytes: number;
  runs: number;
  spread: {
    build_tx_per_s: [number, number];
    verify_tx_per_s: [number, number];
    sha256_tx_per_s: [number, number];
    verify_parallel_tx_per_s?: [number, number];
  };
}

const BATCH = 100;
const BLOCK_SIZE = 5;

/** A decision as the engine records it: four dimensions, before/after snapshots, a reason. */
function transaction(i: number, random: ReturnType<typeof seededRandom>, at: number): Transaction {
  const taskId = `task-${i}`;
  const req = { cpu: 100 + (i % 1400), mem: 128 + (i % 6000), io: 5 + (i % 140), bw: 10 + (i % 1400) };
  const reserved = { cpu: 2000, mem: 8192, io: 120, bw: 900 };
  const after = Object.fromEntries(
    Object.entries(reserved).map(([d, v]) => [d, v + req[d as keyof typeof req]]),
  );
  return {
    transaction_id: transactionId(taskId, 'decision'),
    timestamp: toTimestamp(at),
    task_id: taskId,
    vm_id: `vm-${String(i % 1000).padStart(4, '0')}`,
    status: 'assigned',
    algorithm: 'blockchain',
    score: random.uniform(0.001, 1000),
    reason: 'highest UF/DW among 812 feasible VMs: UF 0.003333, DW 0.4210',
    task_requirements: req,
    vm_state_before: { reserved, usage: reserved, active_tasks: 3 },
    vm_state_after: { reserved: after, usage: reserved, active_tasks: 4 },
  };
}

/**
 * Builds a chain of `transactions` decisions in batches of 100 (blocks of 5, the engine's default),
 * writes it as the JSON Lines export, then verifies the file `runs` times and hashes its lines with
 * plain SHA-256 `runs` times. Only buildBlocks, verifyChain and the hashing are timed.
 */
export async function benchLedger(options: { transactions: number; runs: number }): Promise<LedgerFigures> {
  // Under bench/results (git-ignored) rather than the shared /tmp, where other jobs' clean-ups have
  // deleted a chain halfway through a run; BENCH_TMPDIR overrides.
  const base = process.env.BENCH_TMPDIR ?? fileURLToPath(new URL('results', import.meta.url));
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'ledger-'));
  const path = join(dir, 'chain.jsonl');
  try {
    const random = seededRandom(42);
    const fd = openSync(path, 'w');
    writeSync(fd, `${canonicalString(GENESIS)}\n`);
    let head: ChainHead = { height: GENESIS.height, hash: GENESIS.block_hash };
    const chunkRates: number[] = [];
    const chunk = Math.max(BATCH, Math.floor(options.transactions / 10 / BATCH) * BATCH);
    let chunkUs = 0;
    let chunkTx = 0;
    const start = Date.UTC(2026, 0, 1);
    for (let i = 0; i < options.transactions; i += BATCH) {
      const n = Math.min(BATCH, options.transactions - i);
      const at = start + i;
      const batch = Array.from({ length: n }, (_, k) => transaction(i + k, random, at));
      const t0 = nowNs();
      const blocks = buildBlocks(head, batch, { maxPerBlock: BLOCK_SIZE, timestamp: toTimestamp(at) });
      chunkUs += elapsedUs(t0);
      chunkTx += n;
      if (chunkTx >= chunk) {
        chunkRates.push(chunkTx / (chunkUs / 1e6));
        chunkUs = 0;
        chunkTx = 0;
      }
      const last = blocks[blocks.length - 1]!;
      head = { height: last.height, hash: last.block_hash };
      writeSync(fd, blocks.map((b) => `${canonicalString(b)}\n`).join(''));
    }
    if (chunkTx > 0) chunkRates.push(chunkTx / (chunkUs / 1e6));
    closeSync(fd);

    // Sequential and parallel back to back in each run, so both see the same machine.
    const verifyRates: number[] = [];
    const parallelRates: number[] = [];
    const workers = Math.min(availableParallelism(), 8);
    for (let r = 0; r < options.runs; r++) {
      for (const [verify, rates] of [
        [verifyJsonlFile, verifyRates],
        [
          (file: string, opts: VerifyChainOptions) => verifyJsonlFileParallel(file, { ...opts, workers }),
          parallelRates,
        ],
      ] as const) {
        const t0 = nowNs();
        const report = await verify(path, { expectedHead: head });
        const us = elapsedUs(t0);
        if (!report.valid || report.transactions_checked !== options.transactions) {
          throw new Error(`benchmark chain did not verify: ${report.problem} ${report.detail}`);
        }
        rates.push(options.transactions / (us / 1e6));
      }
    }

    const bytes = readFileSync(path);
    const lines: Buffer[] = [];
    for (let from = 0; from < bytes.length; ) {
      const end = bytes.indexOf(10, from);
      lines.push(bytes.subarray(from, end));
      from = end + 1;
    }
    const shaRates: number[] = [];
    for (let r = 0; r < options.runs; r++) {
      const t0 = nowNs();
      for (const line of lines) createHash('sha256').update(line).digest();
      shaRates.push(options.transactions / (elapsedUs(t0) / 1e6));
    }

    const build = spread(chunkRates);
    const verify = spread(verifyRates);
    const parallel = spread(parallelRates);
    const sha = spread(shaRates);
    return {
      transactions: options.transactions,
      block_size: BLOCK_SIZE,
      build_tx_per_s: round(build.median),
      verify_tx_per_s: round(verify.median),
      sha256_tx_per_s: round(sha.median),
      verify_vs_sha256: round(verify.median / sha.median),
      verify_parallel_tx_per_s: round(parallel.median),
      verify_parallel_vs_sha256: round(parallel.median / sha.median),
      verify_workers: workers,
      export_bytes: bytes.length,
      runs: options.runs,
      spread: {
        build_tx_per_s: [round(build.min), round(build.max)],
        verify_tx_per_s: [round(verify.min), round(verify.max)],
        sha256_tx_per_s: [round(sha.min), round(sha.max)],
        verify_parallel_tx_per_s: [round(parallel.min), round(parallel.max)],
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
