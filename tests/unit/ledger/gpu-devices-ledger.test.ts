import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decisionsToTransactions } from '../../../lib/engine/transactions';
import { canonicalString, verifyChain } from '../../../lib/ledger';
import {
  canonicalTextOfValidated,
  isCanonicalOrderTransaction,
} from '../../../lib/ledger/canonical-transaction';
import { relationIssue } from '../../../lib/ledger/relations';
import { transactionSchema } from '../../../lib/ledger/transactions';
import type { Transaction } from '../../../lib/ledger/types';
import type { Vm } from '../../../lib/model/vm';
import { scheduleBatch } from '../../../lib/scheduling/schedule';
import { buildChain } from './helpers/transactions';

/**
 * docs/ledger-format.md 2.4: an assignment on a VM that lists GPU devices records the device indexes
 * (`devices`) and the per-device use before and after (`gpus` in the snapshots); both verifiers check
 * the relations, so a chain whose hashes were recomputed over an edited device use is still refused.
 */

const DIMS = ['cpu', 'mem', 'gpu'] as const;
const NOW = Date.UTC(2026, 11, 7, 12);
const vm = (id: string, gpus: number): Vm => ({
  id,
  capacity: { cpu: 64_000, mem: 262_144, gpu: gpus * 1000 },
  reserved: { cpu: 0, mem: 0, gpu: 0 },
  usage: { cpu: 0, mem: 0, gpu: 0 },
  history: [],
  activeTasks: 0,
  labels: {},
  state: 'active',
  gpus: Array.from({ length: gpus }, () => ({ model: 'A100', milli: 1000 })),
});
const task = (id: string, gpu: number) => ({
  id,
  requirements: { cpu: 1000, mem: 1024, gpu },
  duration: 60,
  deadline: NOW / 1000 + 3600,
  priority: 0,
  submittedAt: NOW,
  labels: {},
  constraints: {},
});

function transactions(): Transaction[] {
  const decisions = scheduleBatch(
    [task('share', 500), task('two', 2000), task('cpu-only', 0), task('share-2', 500)],
    [vm('p4d', 4)],
    'best-fit',
    { now: NOW, dimensions: DIMS },
  );
  return decisionsToTransactions(decisions, 'best-fit', NOW);
}

const script = new URL('../../independent/verify.py', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'ledger-gpu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
function python(chain: unknown[]): { valid: boolean; problem: string | null; detail: string | null } {
  const path = join(tmp, `c${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, chain.map((b) => `${canonicalString(b)}\n`).join(''));
  const run = spawnSync('python3', [script, 'chain', path], { encoding: 'utf8' });
  if (run.status === 2 || run.error) throw new Error(`verify.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

describe('GPU devices in the ledger (format 2.4)', () => {
  it('records the device indexes and the per-device use before and after each assignment', () => {
    const txs = transactions();
    expect(txs.map((t) => [t.task_id, t.devices, t.vm_state_before?.gpus, t.vm_state_after?.gpus])).toEqual([
      ['share', [0], [0, 0, 0, 0], [500, 0, 0, 0]],
      ['two', [1, 2], [500, 0, 0, 0], [500, 1000, 1000, 0]],
      ['cpu-only', undefined, [500, 1000, 1000, 0], [500, 1000, 1000, 0]],
      // The share goes to the half-used GPU, keeping GPU 3 whole.
      ['share-2', [0], [500, 1000, 1000, 0], [1000, 1000, 1000, 0]],
    ]);
    for (const tx of txs) {
      expect(transactionSchema.safeParse(tx).success).toBe(true);
      expect(relationIssue(tx)).toBeNull();
      // The fast canonical writer agrees with the generic RFC 8785 one on the new members.
      expect(canonicalTextOfValidated(tx)).toBe(canonicalString(tx));
      expect(isCanonicalOrderTransaction(JSON.parse(canonicalString(tx)))).toBe(true);
    }
    expect(
      canonicalString(txs[1]).startsWith(
        '{"algorithm":"best-fit","devices":[1,2],"format_version":3,"reason"',
      ),
    ).toBe(true);
  });

  it('is accepted by both verifiers', async () => {
    const chain = buildChain(transactions(), 2);
    expect((await verifyChain(chain)).valid).toBe(true);
    expect(python(chain)).toMatchObject({ valid: true, problem: null });
  });

  it.each([
    [
      'a device use that is not before plus the share',
      (t: Transaction[]) => t[3]!.vm_state_after!.gpus!.splice(0, 1, 700),
    ],
    ['use on a device not named in devices', (t: Transaction[]) => (t[0]!.devices = [1])],
    ['devices not ascending', (t: Transaction[]) => (t[1]!.devices = [2, 1])],
    ['gpus in one snapshot only', (t: Transaction[]) => delete t[2]!.vm_state_after!.gpus],
    ['devices on a rejection', (t: Transaction[]) => Object.assign(t[2]!, { devices: [3] })],
  ])('refuses %s even with every hash recomputed, in both verifiers', async (_name, edit) => {
    const txs = transactions();
    edit(txs);
    const chain = buildChain(txs, 2);
    const ours = await verifyChain(chain);
    expect(ours).toMatchObject({ valid: false, problem: 'malformed' });
    expect(python(chain)).toMatchObject({ valid: false, problem: 'malformed' });
  });
});
