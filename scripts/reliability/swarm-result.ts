import type { LedgerAudit } from './audit';
import { type AppendCounts, addAppendCounts, noAppends } from './counting-store';
import type { SchedulerStats } from './drive';
import type { RunSettings } from './settings';
import { overlapCount } from './workload';

/** One run of many schedulers on one chain: what each scheduler reported, and the audit after. */
export interface SwarmResult {
  store: 'sqlite' | 'dynamodb';
  settings: RunSettings;
  /** From `go` until the last scheduler finished. */
  wallMs: number;
  schedulers: SchedulerStats[];
  /** Every scheduler's appends, summed. */
  appends: AppendCounts;
  audit: LedgerAudit;
  /**
   * DynamoDB only: how long one getReservations (the read every placement attempt makes) took on
   * the empty table and on the table the run left, ms.
   */
  reservationsReadMs?: { empty: number; full: number };
}

/** The figures docs/reliability.md reports for a run. */
export interface SwarmSummary {
  store: SwarmResult['store'];
  schedulers: number;
  tasks: number;
  /** Tasks handed to schedulers, counting a task given to two twice. */
  submissions: number;
  seconds: number;
  tasks_per_s: number;
  blocks: number;
  transactions: number;
  assigned: number;
  rejected: number;
  completed: number;
  /** Appends refused because another scheduler had moved the head, per block committed. */
  conflicts_per_block: number;
  conflicts: AppendCounts['conflicts'];
  /** Compare-and-set attempts per schedule() call. */
  attempts_mean: number;
  attempts_max: number;
  /** schedule() calls the engine gave up on after all its attempts (the batch was retried). */
  exhausted: number;
  duplicates_reported: number;
  /** Times a task was offered again because no VM had room for it then. */
  deferrals: number;
  forks: number;
  lost: number;
  recorded_twice: number;
  over_capacity: number;
  stale_decisions: number;
  peak_cpu_utilisation: number;
  reservations_read_ms_empty?: number;
  reservations_read_ms_full?: number;
}

export function combineAppends(all: readonly AppendCounts[]): AppendCounts {
  return all.reduce(addAppendCounts, noAppends());
}

export function summarise(result: SwarmResult): SwarmSummary {
  const { audit, settings } = result;
  let calls = 0;
  let attempts = 0;
  let max = 0;
  for (const s of result.schedulers) {
    for (const [n, count] of Object.entries(s.attempts)) {
      calls += count;
      attempts += Number(n) * count;
      max = Math.max(max, Number(n));
    }
  }
  const seconds = result.wallMs / 1000;
  const blocks = audit.blocks - 1;
  return {
    store: result.store,
    schedulers: settings.schedulers,
    tasks: settings.tasks,
    submissions: settings.tasks + overlapCount(settings.tasks, settings.schedulers, settings.overlapEvery),
    seconds,
    tasks_per_s: settings.tasks / seconds,
    blocks,
    transactions: audit.transactions,
    assigned: audit.assigned,
    rejected: audit.rejected,
    completed: audit.completed,
    conflicts_per_block: blocks > 0 ? result.appends.conflicts['head-moved'] / blocks : 0,
    conflicts: result.appends.conflicts,
    attempts_mean: calls > 0 ? attempts / calls : 0,
    attempts_max: max,
    exhausted: result.schedulers.reduce((n, s) => n + s.exhausted, 0),
    duplicates_reported: result.schedulers.reduce((n, s) => n + s.duplicates.length, 0),
    deferrals: result.schedulers.reduce((n, s) => n + s.deferred, 0),
    forks: audit.chainValid && audit.heightsContiguous ? 0 : 1,
    lost: audit.lost.length,
    recorded_twice: audit.recordedTwice.length,
    over_capacity: audit.overCapacity.length,
    stale_decisions: audit.staleSnapshots.length,
    peak_cpu_utilisation: audit.peakUtilisation.cpu ?? 0,
    ...(result.reservationsReadMs
      ? {
          reservations_read_ms_empty: result.reservationsReadMs.empty,
          reservations_read_ms_full: result.reservationsReadMs.full,
        }
      : {}),
  };
}
