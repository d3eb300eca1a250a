import { withLedgerReservations } from '../engine/fleet-merge';
import type { Dimensions } from '../model/resources';
import type { FleetSource } from '../ports/fleet-source';
import type { LedgerStore } from '../ports/ledger-store';
import type { BacklogGauge, ScaleInProtection, ScalingMetricsSink, ScalingSnapshot } from '../ports/scaling';
import { activeInstances, backlogPerInstance } from './backlog';
import { busyInstances, freeToTerminate, type ProtectionChanges, protectionChanges } from './protection';
import { utilisation } from './utilisation';

export interface FleetMonitorDeps {
  readonly fleet: FleetSource;
  readonly store: Pick<LedgerStore, 'getReservations'>;
  readonly backlog: BacklogGauge;
  readonly metrics: ScalingMetricsSink;
  /** Absent when the fleet is not an Auto Scaling group. */
  readonly protection?: ScaleInProtection;
  readonly dimensions: Dimensions;
  readonly now: () => number;
}

export interface FleetMonitorReport {
  readonly snapshot: ScalingSnapshot;
  /** The protection changes applied; absent without a group. */
  readonly protection?: ProtectionChanges;
}

/** One or both halves of a run failed; the other half still ran. */
export class FleetMonitorError extends Error {
  override name = 'FleetMonitorError';
  constructor(
    readonly failures: { readonly step: 'metrics' | 'protection'; readonly error: unknown }[],
    /** What the run measured and, when the group was read, the changes it attempted. */
    readonly report: FleetMonitorReport,
  ) {
    super(
      `fleet monitor: ${failures.map((f) => `${f.step} failed: ${f.error instanceof Error ? f.error.message : String(f.error)}`).join('; ')}`,
      { cause: failures[0]?.error },
    );
  }
}

/**
 * One run of the fleet monitor: read backlog, fleet, group and reservations once, publish the
 * scaling metrics, and bring the group's scale-in protection in line with the reservations. The two
 * writes are independent: a group API that fails must not stop the metric the scaling policy tracks,
 * and the other way round; both are attempted and every failure is reported together.
 *
 * Reservations are read for the fleet's and the group's instances only (by key: a full read would
 * scan the whole ledger every minute). They come from the ledger, not the fleet source, so a group
 * instance the fleet no longer lists keeps its protection while it still holds tasks.
 */
export async function runFleetMonitor(deps: FleetMonitorDeps): Promise<FleetMonitorReport> {
  const at = deps.now();
  const [backlog, listed, group] = await Promise.all([
    deps.backlog.backlog(),
    deps.fleet.listVms(),
    // Settled, not thrown: the metrics do not need the group.
    deps.protection?.instances().then(
      (instances) => ({ ok: true as const, instances }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  ]);
  const ids = new Set(listed.map((vm) => vm.id));
  if (group?.ok) for (const instance of group.instances) ids.add(instance.id);
  const reservations = await deps.store.getReservations([...ids].sort());
  const vms = withLedgerReservations(listed, reservations, deps.dimensions);
  const snapshot: ScalingSnapshot = {
    at,
    backlog,
    activeInstances: activeInstances(vms),
    drainingInstances: vms.filter((vm) => vm.state === 'draining').length,
    freeToTerminate: vms.filter(freeToTerminate).length,
    backlogPerInstance: backlogPerInstance(backlog, vms),
    utilisation: utilisation(vms, deps.dimensions),
  };

  let changes: ProtectionChanges | undefined;
  const protect = async (protection: ScaleInProtection) => {
    if (!group?.ok) throw group?.error;
    changes = protectionChanges(group.instances, busyInstances(reservations));
    await protection.apply(changes);
  };
  const [published, protectedResult] = await Promise.allSettled([
    deps.metrics.publish(snapshot),
    deps.protection ? protect(deps.protection) : Promise.resolve(),
  ]);
  const failures: FleetMonitorError['failures'] = [];
  if (published.status === 'rejected') failures.push({ step: 'metrics', error: published.reason });
  if (protectedResult.status === 'rejected')
    failures.push({ step: 'protection', error: protectedResult.reason });
  const report: FleetMonitorReport = changes ? { snapshot, protection: changes } : { snapshot };
  if (failures.length > 0) throw new FleetMonitorError(failures, report);
  return report;
}
