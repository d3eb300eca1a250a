import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  blockHash,
  canonicalString,
  transactionId,
  transactionsRoot,
  verifyChain,
} from '../../../lib/ledger';
import type { Block, Transaction } from '../../../lib/ledger/types';
import { buildChain, clone, sampleTransactions } from './helpers/transactions';

/**
 * tests/independent/verify.py is a second verifier, in Python with its own RFC 8785 and RFC 9162 code,
 * written from docs/ledger-format.md. Agreement with lib/ledger on valid and tampered chains is evidence
 * that the document is complete and that neither implementation hides a private convention.
 */

const script = new URL('../../independent/verify.py', import.meta.url).pathname;
const root = new URL('../../../', import.meta.url);
const tmp = mkdtempSync(join(tmpdir(), 'ledger-py-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface PyReport {
  valid: boolean;
  height: number;
  head_hash: string | null;
  first_bad_height: number | null;
  problem: string | null;
  transactions_checked: number;
  blocks_root?: string;
}

function python(...args: string[]): { status: number | null; report: PyReport } {
  const run = spawnSync('python3', [script, ...args], { encoding: 'utf8' });
  if (run.status === 2 || run.error) throw new Error(`verify.py failed: ${run.stderr} ${run.error ?? ''}`);
  return { status: run.status, report: JSON.parse(run.stdout) as PyReport };
}

let files = 0;
function write(content: string): string {
  const path = join(tmp, `f${files++}`);
  writeFileSync(path, content);
  return path;
}
const jsonl = (blocks: unknown[]) => write(blocks.map((b) => `${canonicalString(b)}\n`).join(''));

/** Transactions whose canonical form exercises the number and key-ordering rules of RFC 8785. */
function awkwardTransactions(): Transaction[] {
  const scores = [1e21, 1e-7, 5e-324, 0.1 + 0.2, -1.5e300, 123456789.125, 1e20, 0.000001, -0.5, 2 ** 53];
  return sampleTransactions(scores.length, 77, 5000).map((tx, i) => ({
    ...tx,
    task_id: `awkward-${i}`,
    transaction_id: transactionId(`awkward-${i}`, 'decision'),
    vm_id: `vm-${i}`,
    status: 'assigned' as const,
    vm_state_before: tx.vm_state_before ?? { reserved: {}, usage: {}, active_tasks: 0 },
    vm_state_after: tx.vm_state_after ?? { reserved: {}, usage: {}, active_tasks: 1 },
    score: scores[i]!,
    reason: `reason ${i}: "quoted" \\ back\tslash \u0001 é 😀 \u2028`,
    task_requirements: { a: 1, Z: 2, é: 3, '😀': 4, '\uE000': 5, '\u007f': 6, '10': 7, '9': 8 },
  }));
}

const chain = buildChain([...sampleTransactions(40, 314), ...awkwardTransactions()], 4);
const last = chain[chain.length - 1]!;

function rehash(block: Block): void {
  block.transaction_count = block.transactions.length;
  block.merkle_root = transactionsRoot(block.transactions);
  block.block_hash = blockHash(block);
}

describe('the independent Python verifier agrees with lib/ledger', () => {
  it('on the documented example chain', async () => {
    const { status, report } = python('chain', new URL('tests/vectors/ledger-example.jsonl', root).pathname);
    const ours = await verifyChain(
      readFileSync(new URL('tests/vectors/ledger-example.jsonl', root), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Block),
    );
    expect(status).toBe(0);
    expect(report).toMatchObject({ valid: true, height: ours.height, head_hash: ours.head_hash });
    expect(report.blocks_root).toBe(ours.digest!.blocks_root);
  });

  it('on a chain with awkward numbers, escapes and non-ASCII keys', async () => {
    const ours = await verifyChain(chain);
    expect(ours.valid).toBe(true);
    const { status, report } = python('chain', jsonl(chain), '--head', `${last.height}:${last.block_hash}`);
    expect(status).toBe(0);
    expect(report).toMatchObject({
      valid: true,
      height: last.height,
      head_hash: last.block_hash,
      transactions_checked: 50,
    });
    expect(report.blocks_root).toBe(ours.digest!.blocks_root);
  });

  /** A mutation that edits the blocks in place. */
  const edit =
    (change: (blocks: Block[]) => void) =>
    (blocks: Block[]): Block[] => {
      change(blocks);
      return blocks;
    };
  const mutations: [string, (b: Block[]) => Block[]][] = [
    [
      'edited score',
      edit((b) => {
        b[3]!.transactions[1]!.score = 0.25;
      }),
    ],
    [
      'edited awkward key',
      edit((b) => {
        b[12]!.transactions[0]!.task_requirements['😀'] = 5;
      }),
    ],
    [
      'dropped transaction',
      edit((b) => {
        b[4]!.transactions.pop();
      }),
    ],
    [
      'edited block hash',
      edit((b) => {
        b[5]!.block_hash = '0'.repeat(64);
      }),
    ],
    [
      'broken link',
      edit((b) => {
        b[6]!.previous_hash = '1'.repeat(64);
      }),
    ],
    ['deleted block', (b) => [...b.slice(0, 7), ...b.slice(8)]],
    [
      'rehashed edit',
      edit((b) => {
        b[8]!.transactions[0]!.reason = 'forged';
        rehash(b[8]!);
      }),
    ],
    [
      'changed genesis',
      edit((b) => {
        b[0]!.timestamp = '1970-01-01T00:00:00.001Z';
      }),
    ],
    [
      'duplicate transaction',
      edit((b) => {
        b[9]!.transactions[0] = clone(b[1]!.transactions[0]!);
        rehash(b[9]!);
      }),
    ],
    ['truncated', (b) => b.slice(0, 10)],
    [
      'transaction id not derived from its task',
      edit((b) => {
        b[7]!.transactions[1]!.transaction_id = transactionId('someone-else', 'decision');
        rehash(b[7]!);
      }),
    ],
    [
      'malformed field',
      edit((b) => {
        b[2]!.transactions[0]!.timestamp = 'noon';
      }),
    ],
  ];

  it.each(mutations)('on a tampered chain: %s', async (_label, mutate) => {
    const tampered = mutate(clone(chain));
    const head = { height: last.height, hash: last.block_hash };
    const ours = await verifyChain(tampered, { expectedHead: head });
    const { status, report } = python('chain', jsonl(tampered), '--head', `${head.height}:${head.hash}`);
    expect(ours.valid).toBe(false);
    expect(status).toBe(1);
    expect({ problem: report.problem, at: report.first_bad_height }).toEqual({
      problem: ours.problem,
      at: ours.first_bad_height,
    });
  });

  it('on the documented proofs, and on a tampered one', () => {
    const example = JSON.parse(readFileSync(new URL('tests/vectors/ledger-example.json', root), 'utf8'));
    const proof = write(JSON.stringify(example.transaction_proof));
    expect(python('proof', proof).status).toBe(0);
    const forged = clone(example.transaction_proof);
    forged.transaction.reason = 'placed after all';
    expect(python('proof', write(JSON.stringify(forged))).status).toBe(1);
    const [d1, d2, c] = [
      example.digest_height_1,
      example.digest_height_2,
      example.consistency_proof_1_to_2,
    ].map((x) => write(JSON.stringify(x)));
    expect(python('consistency', d1!, d2!, c!).status).toBe(0);
    expect(python('consistency', d2!, d1!, c!).status).toBe(1);
  });
});
