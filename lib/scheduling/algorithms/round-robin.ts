import {
  explainInfeasible,
  isFeasible,
  type PlacementAlgorithm,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import type { FleetState } from '../fleet-state';

/**
 * Takes VMs in index order, starting after the one chosen last and skipping infeasible ones. The
 * cursor lives in the instance, so rotation continues across batches; if the fleet shrinks, it wraps.
 * Every placement scores 1: the order, not a score, decides.
 */
export class RoundRobinAlgorithm implements PlacementAlgorithm {
  readonly name = 'round-robin';
  private cursor = 0;

  select(request: PlacementRequest, fleet: FleetState): Selection {
    const n = fleet.size;
    const start = n === 0 ? 0 : this.cursor % n;
    for (let step = 0; step < n; step++) {
      const i = start + step < n ? start + step : start + step - n;
      if (!isFeasible(fleet, i, request)) continue;
      this.cursor = i + 1;
      return { index: i, score: 1, reason: `round-robin: next feasible VM from position ${start}` };
    }
    return { index: -1, reason: explainInfeasible(fleet, request) };
  }
}
