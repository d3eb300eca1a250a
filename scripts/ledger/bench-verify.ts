/**
 * Measures streaming chain verification against plain SHA-256 over the same bytes. Not a test: figures
 * depend on the machine. Usage:
 *   npx tsx scripts/ledger/bench-verify.ts [transactions=1000000] [perBlock=5]
 * Writes the chain to a temporary JSON Lines file, hashes it once with SHA-256, then verifies it from disk
 * in the reference mode and in the fast (default) mode, printing time, the ratio to SHA-256 and RSS.
 */

import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
import type { ChainHead, Transaction } from '../../lib/ledger/types';

const total = Number(process.argv[2] ?? 1_000_000);
const perBlock = Number(process.argv[3] ?? 5);
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
  const cpuSecondsOf: Record<string, number> = {};
  for (const mode of ['reference', 'fast'] as const) {
    t = performance.now();
    const cpu = process.cpuUsage();
    const report = await verifyJsonlFile(file, { expectedHead: head, mode });
    const verifySeconds = (performance.now() - t) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    const cpuSeconds = (user + system) / 1e6;
    const rss = process.memoryUsage().rss;
    console.log(
      `verify (${mode}): valid=${report.valid} ${report.transactions_checked} transactions in ${verifySeconds.toFixed(1)} s ` +
        `(${Math.round(report.transactions_checked / verifySeconds)} tx/s wall), ${cpuSeconds.toFixed(1)} s CPU ` +
        `(${Math.round(report.transactions_checked / cpuSeconds)} tx/CPU-s), rss ${(rss / 1e6).toFixed(0)} MB`,
    );
    cpuSecondsOf[mode] = cpuSeconds;
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

  for (const [mode, seconds] of Object.entries(cpuSecondsOf)) {
    console.log(
      `verify_vs_sha256 (${mode}, CPU time): ${(shaSeconds / seconds).toFixed(4)} against the whole file, ` +
        `${(lineSeconds / seconds).toFixed(4)} against per-line hashing`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
