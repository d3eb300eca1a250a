import {
  collectFeasible,
  explainInfeasible,
  type PlacementAlgorithm,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import type { FleetState } from '../fleet-state';
import { reservedLoadAfter } from '../scoring';

/**
 * The feasible VM with the fewest active tasks; among those, the lowest committed share after
 * placement; then the lowest index. Score = 1 / (1 + active tasks), in (0, 1].
 */
export class LeastConnectionsAlgorithm implements PlacementAlgorithm {
  readonly name = 'least-connections';

  select(request: PlacementRequest, fleet: FleetState): Selection {
    let best = -1;
    let bestActive = Number.POSITIVE_INFINITY;
    let bestLoad = Number.POSITIVE_INFINITY;
    const active = fleet.activeTasks;
    const feasible = collectFeasible(fleet, request);
    const candidates = fleet.candidates;
    for (let k = 0; k < feasible; k++) {
      const i = candidates[k]!;
      const tasks = active[i]!;
      if (tasks > bestActive) continue;
      const load = reservedLoadAfter(fleet, i, request.demand);
      if (tasks < bestActive || load < bestLoad) {
        bestActive = tasks;
        bestLoad = load;
        best = i;
      }
    }
    if (best < 0) return { index: -1, reason: explainInfeasible(fleet, request) };
    return {
      index: best,
      score: 1 / (1 + bestActive),
      reason: `fewest active tasks (${bestActive}) among ${feasible} feasible VMs`,
    };
  }
}
