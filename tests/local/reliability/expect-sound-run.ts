import { expect } from 'vitest';
import { auditFailures } from '../../../scripts/reliability/audit';
import type { SwarmResult } from '../../../scripts/reliability/swarm-result';
import { workloadTasks } from '../../../scripts/reliability/workload';

/**
 * What every many-schedulers run must show, whatever the store: no fork, every task decided exactly
 * once, exactly the doubly submitted tasks reported as duplicates, every VM within capacity at every
 * block, no decision on a stale view; and that it tested something: schedulers lost races to each
 * other and the fleet filled up.
 */
export function expectSoundRun(result: SwarmResult): void {
  const { audit, settings } = result;
  expect(auditFailures(audit)).toEqual([]);
  expect(audit.chainValid).toBe(true);
  expect(audit.heightsContiguous).toBe(true);
  expect(audit.lost).toEqual([]);
  expect(audit.recordedTwice).toEqual([]);
  expect(audit.overCapacity).toEqual([]);
  expect(audit.staleSnapshots).toEqual([]);
  expect(audit.assigned + audit.rejected).toBe(settings.tasks);

  const overlapping = workloadTasks(settings)
    .filter((_, i) => i % settings.overlapEvery === 0)
    .map((t) => t.id)
    .sort();
  expect(result.schedulers.flatMap((s) => s.duplicates).sort()).toEqual(overlapping);
  // Every assignment was completed once, by the scheduler that made it.
  expect(audit.completed).toBe(audit.assigned);
  expect(result.schedulers.map((s) => s.alreadyFinal)).toEqual(result.schedulers.map(() => 0));

  expect(result.appends.conflicts['head-moved']).toBeGreaterThan(0);
  expect(audit.peakUtilisation.cpu).toBeGreaterThan(0.9);
}
