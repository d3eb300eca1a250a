import { describe, expect, it } from 'vitest';
import { parseJsonl } from '../../lib/ledger/jsonl';
import type { Block } from '../../lib/ledger/types';
import { verifyChain } from '../../lib/ledger/verify';
import { eventually, postJson, startServer, task, tempDir } from './helpers/server';

const SENDERS = 4;
const REQUESTS_PER_SENDER = 40;
const TASKS_PER_REQUEST = 100;
/** Kill once this many tasks are accepted, while the senders are still sending. */
const KILL_AFTER = 1500;

async function exportedBlocks(url: string): Promise<Block[]> {
  const blocks: Block[] = [];
  for await (const b of parseJsonl((await (await fetch(`${url}/ledger/export`)).text()).split('\n')))
    blocks.push(b);
  return blocks;
}

function decisionCounts(blocks: Block[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const tx of blocks.flatMap((b) => b.transactions)) {
    if (tx.status === 'assigned' || tx.status === 'rejected')
      counts.set(tx.task_id, (counts.get(tx.task_id) ?? 0) + 1);
  }
  return counts;
}

describe.each([
  ['on the scheduler thread', true],
  ['in the main thread', false],
])('scheduling %s', (_name, schedulerThread) => {
  it('after kill -9 mid-load and a restart, every accepted task is decided exactly once and the chain verifies', async () => {
    const dataDir = await tempDir('bcs-durability-');
    // No waiting for capacity (tasks run 10 h here): every accepted task is decided soon after the restart.
    const config = {
      fleet: { size: 8 },
      batch_size: 300,
      seed: 11,
      scheduler_thread: schedulerThread,
      max_wait_s: 0,
    };
    const first = await startServer({ dataDir, config });

    const accepted = new Set<string>();
    let sending = true;
    const sender = async (s: number) => {
      for (let r = 0; r < REQUESTS_PER_SENDER && sending; r++) {
        const batch = Array.from({ length: TASKS_PER_REQUEST }, (_, i) =>
          task(`k-${s}-${r}-${i}`, { cpu: 10 + i, mem: 32, io: 1, bw: 1 }),
        );
        try {
          const response = await postJson(`${first.url}/tasks`, batch);
          if (response.status !== 202) continue;
          for (const id of ((await response.json()) as { accepted: string[] }).accepted) accepted.add(id);
        } catch {
          return; // the server is gone: whatever it acknowledged is in `accepted`
        }
      }
    };
    const senders = Array.from({ length: SENDERS }, (_, s) => sender(s));
    await eventually(
      async () => (accepted.size >= KILL_AFTER ? true : undefined),
      `${KILL_AFTER} accepted tasks`,
      300,
    );
    await first.kill();
    sending = false;
    await Promise.all(senders);
    expect(accepted.size).toBeGreaterThanOrEqual(KILL_AFTER);

    const second = await startServer({ dataDir, config });
    try {
      const counts = await eventually(
        async () => {
          const c = decisionCounts(await exportedBlocks(second.url));
          return [...accepted].every((id) => c.has(id)) ? c : undefined;
        },
        'every accepted task to be decided after the restart',
        120,
        500,
      );
      // Exactly once: no accepted task twice, and no task at all decided twice.
      expect([...accepted].filter((id) => counts.get(id) !== 1)).toEqual([]);
      expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);

      const report = (await (await fetch(`${second.url}/ledger/verify`, { method: 'POST' })).json()) as {
        valid: boolean;
      };
      expect(report.valid).toBe(true);
      expect((await verifyChain(await exportedBlocks(second.url))).valid).toBe(true);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });
});
