/**
 * verifyChain over blocks whose keys are in the engine's order rather than RFC 8785's, as the SQLite
 * store hands them back (JSON.stringify on write, JSON.parse on read): the fast verifier's zod path.
 * Prints the median CPU time per transaction of five runs. Not a test.
 *   node --import tsx bench/verify-store-order.ts [transactions=50000]
 */
import { buildBlocks, GENESIS } from '../lib/ledger/blocks';
import { toTimestamp } from '../lib/ledger/time';
import { transactionId } from '../lib/ledger/transactions';
import type { Block, ChainHead, Transaction } from '../lib/ledger/types';
import { verifyChain } from '../lib/ledger/verify';

const N = Number(process.argv[2] ?? 50000);
function transaction(i: number, at: number): Transaction {
  const taskId = `task-${i}`;
  const req = { cpu: 100 + (i % 1400), mem: 128 + (i % 6000), io: 5 + (i % 140), bw: 10 + (i % 1400) };
  const reserved = { cpu: 2000, mem: 8192, io: 120, bw: 900 };
  return {
    transaction_id: transactionId(taskId, 'decision'),
    timestamp: toTimestamp(at),
    task_id: taskId,
    vm_id: `vm-${i % 1000}`,
    status: 'assigned',
    algorithm: 'blockchain',
    score: i / 7.3,
    reason: 'highest UF/DW among 812 feasible VMs: UF 0.003333, DW 0.4210',
    task_requirements: req,
    vm_state_before: { reserved, usage: reserved, active_tasks: 3 },
    vm_state_after: { reserved, usage: reserved, active_tasks: 4 },
  };
}
const chain: Block[] = [GENESIS];
let head: ChainHead = { height: 0, hash: GENESIS.block_hash };
for (let s = 0; s < N; s += 100) {
  const blocks = buildBlocks(
    head,
    Array.from({ length: 100 }, (_, k) => transaction(s + k, Date.UTC(2026, 0, 1) + s + k)),
    { maxPerBlock: 5, timestamp: toTimestamp(Date.UTC(2026, 0, 1) + s) },
  );
  chain.push(...blocks);
  const last = blocks.at(-1)!;
  head = { height: last.height, hash: last.block_hash };
}
// As the SQLite store hands blocks back: JSON.stringify then JSON.parse, engine key order kept.
const stored = chain.map((b) => JSON.parse(JSON.stringify(b)));
const cpus: number[] = [];
for (let r = 0; r < 5; r++) {
  const c = process.cpuUsage();
  const rep = await verifyChain(stored, { expectedHead: head });
  const u = process.cpuUsage(c);
  if (!rep.valid) throw new Error('invalid');
  cpus.push((u.user + u.system) / 1000 / N);
}
cpus.sort((a, b) => a - b);
console.log(
  `verifyChain over store-order blocks: ${(cpus[2]! * 1000).toFixed(2)} µs CPU per transaction (runs ${(cpus[0]! * 1000).toFixed(2)}-${(cpus[4]! * 1000).toFixed(2)})`,
);
