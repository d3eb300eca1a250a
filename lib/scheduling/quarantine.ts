import { type FieldIssue, ValidationError } from '../errors';
import type { Dimensions } from '../model/resources';
import type { Vm } from '../model/vm';
import type { QuarantinedVm } from '../ports/fleet-source';
import { FleetState } from './fleet-state';
import { DEFAULT_PARAMS } from './types';

export interface AdmittedFleet {
  /** The VMs that passed, laid out for placement. */
  fleet: FleetState;
  /** The VMs refused, each with the fields at fault; never placed on. */
  quarantined: QuarantinedVm[];
}

/** A history of NaN samples names every sample; the report stays readable. */
const MAX_REASON_LENGTH = 1000;

const PER_VM_FIELD = /^fleet\.(\d+)\.(.*)$/;

/**
 * Fault isolation for the engine: one VM whose record FleetState.from refuses (a capacity below
 * MIN_CAPACITY, a negative reservation, a NaN usage sample, a repeated id) is quarantined, and
 * the fleet is built from the rest, so one bad record cannot stop every batch. The check is
 * FleetState.from's own, so what counts as bad is defined once. Problems that are not about one VM
 * (repeated dimensions, a bad history window) still throw.
 */
export function admitFleet(
  vms: readonly Vm[],
  dimensions: Dimensions,
  historyWindow: number = DEFAULT_PARAMS.historyWindow,
): AdmittedFleet {
  try {
    return { fleet: FleetState.from(vms, dimensions, historyWindow), quarantined: [] };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const byVm = new Map<number, FieldIssue[]>();
    for (const issue of error.issues) {
      const match = PER_VM_FIELD.exec(issue.field);
      if (!match) throw error;
      const index = Number(match[1]);
      byVm.set(index, [...(byVm.get(index) ?? []), { field: match[2]!, message: issue.message }]);
    }
    const healthy = vms.filter((_, i) => !byVm.has(i));
    const quarantined = [...byVm.entries()]
      .sort(([a], [b]) => a - b)
      .map(([i, issues]) => ({
        vm_id: String(vms[i]!.id),
        reason: issues
          .map((issue) => `${issue.field}: ${issue.message}`)
          .join('; ')
          .slice(0, MAX_REASON_LENGTH),
      }));
    // Every remaining problem was about a VM now left out, so this cannot throw for the same reason.
    return { fleet: FleetState.from(healthy, dimensions, historyWindow), quarantined };
  }
}
