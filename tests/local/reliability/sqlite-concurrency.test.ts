import { describe, expect, it } from 'vitest';
import { auditFailures } from '../../../scripts/reliability/audit';
import { DEFAULT_SETTINGS } from '../../../scripts/reliability/settings';
import { runSqliteSwarm } from '../../../scripts/reliability/sqlite-swarm';
import { summarise } from '../../../scripts/reliability/swarm-result';
import { workloadTasks } from '../../../scripts/reliability/workload';

/**
 * Issue 5, load and concurrency on SQLite: eight scheduler processes, each with its own engine and
 * connection, append to one ledger file at once, 10,000 tasks between them, every tenth also given
 * to a second scheduler. `npm run reliability` runs the same at full size three times.
 */
describe('eight schedulers on one SQLite chain', () => {
  it('commit 10,000 tasks with no fork, none lost or recorded twice, and no VM ever over capacity', async () => {
    const settings = { ...DEFAULT_SETTINGS, startedAt: Date.now() };
    const result = await runSqliteSwarm(settings);
    const { audit } = result;
    const summary = summarise(result);
    console.log(JSON.stringify(summary));

    expect(auditFailures(audit)).toEqual([]);
    expect(audit.chainValid).toBe(true);
    expect(audit.heightsContiguous).toBe(true);
    expect(audit.lost).toEqual([]);
    expect(audit.recordedTwice).toEqual([]);
    expect(audit.overCapacity).toEqual([]);
    expect(audit.staleSnapshots).toEqual([]);
    expect(audit.assigned + audit.rejected).toBe(settings.tasks);

    // Exactly the tasks handed to two schedulers came back as duplicates, once each.
    const overlapping = workloadTasks(settings)
      .filter((_, i) => i % settings.overlapEvery === 0)
      .map((t) => t.id)
      .sort();
    expect(result.schedulers.flatMap((s) => s.duplicates).sort()).toEqual(overlapping);
    // Every assignment was completed once, by the scheduler that made it.
    expect(audit.completed).toBe(audit.assigned);
    expect(result.schedulers.map((s) => s.alreadyFinal)).toEqual(result.schedulers.map(() => 0));

    // The run did what it is meant to test: schedulers lost races to each other, and the fleet filled.
    expect(result.appends.conflicts['head-moved']).toBeGreaterThan(0);
    expect(audit.peakUtilisation.cpu).toBeGreaterThan(0.95);
  }, 180_000);
});
