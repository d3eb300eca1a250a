import type { LedgerStore } from '../ports/ledger-store';
import type { TerminatingInstance, TerminationLifecycle } from '../ports/scaling';

export interface TerminationDeps {
  readonly lifecycle: TerminationLifecycle;
  /** Tags the instance draining: no new task is placed on it (Ec2Drain). */
  readonly drain: (instanceId: string) => Promise<void>;
  readonly store: Pick<LedgerStore, 'getReservations'>;
  /**
   * How long after the drain a scheduler may still commit a placement on the instance: it sees the
   * tag once its fleet cache expires (fleetCacheTtlSeconds), and an attempt that listed the fleet
   * just before may commit up to its function's timeout later.
   */
  readonly settleMs: number;
  readonly sleep: (ms: number) => Promise<void>;
}

export type TerminationOutcome =
  /** It holds no task in the ledger: the termination goes on. */
  | { readonly instanceId: string; readonly action: 'released' }
  /** It still holds tasks: held (heartbeat) until they finish or their leases end. */
  | { readonly instanceId: string; readonly action: 'held'; readonly activeTasks: number };

/**
 * The scale-in rule, on AWS as in the local autoscaler: an instance leaves only when the ledger says
 * it holds no task. Each terminating instance is drained (the tag is idempotent); then, once no
 * scheduler can still place on it (`settleMs`: an idle instance chosen for scale-in may receive a
 * task in that window, the race this closes), its reservations are read by key. With none it is
 * released, otherwise held, and the next run (every minute) asks again. Tasks end by completion or by
 * the lease sweep's expiry, so the wait is bounded by the longest lease on the instance.
 */
export async function settleTerminations(
  instances: readonly TerminatingInstance[],
  deps: TerminationDeps,
): Promise<TerminationOutcome[]> {
  if (instances.length === 0) return [];
  for (const instance of instances) await deps.drain(instance.instanceId);
  await deps.sleep(deps.settleMs);
  const reservations = await deps.store.getReservations(instances.map((i) => i.instanceId).sort());
  const active = new Map(reservations.map((r) => [r.vm_id, r.active_tasks]));
  const outcomes: TerminationOutcome[] = [];
  for (const instance of instances) {
    const activeTasks = active.get(instance.instanceId) ?? 0;
    if (activeTasks === 0) {
      await deps.lifecycle.release(instance);
      outcomes.push({ instanceId: instance.instanceId, action: 'released' });
    } else {
      await deps.lifecycle.hold(instance);
      outcomes.push({ instanceId: instance.instanceId, action: 'held', activeTasks });
    }
  }
  return outcomes;
}
