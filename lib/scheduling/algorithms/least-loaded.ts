import {
  collectFeasible,
  explainInfeasible,
  type PlacementAlgorithm,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import type { FleetState } from '../fleet-state';
import { formatNumber } from '../format';
import { lowestLoadAfter } from '../scoring';

/**
 * The feasible VM with the lowest committed share after placement, mean_d (reserved_d + demand_d) /
 * capacity_d (Kubernetes' LeastAllocated). Score = 1 - that share, in [0, 1]. Ties: lowest index.
 */
export class LeastLoadedAlgorithm implements PlacementAlgorithm {
  readonly name = 'least-loaded';

  select(request: PlacementRequest, fleet: FleetState): Selection {
    const feasible = collectFeasible(fleet, request);
    const { index: best, value: bestLoad } = lowestLoadAfter(fleet, feasible, request.demand);
    if (best < 0) return { index: -1, reason: explainInfeasible(fleet, request) };
    return {
      index: best,
      score: 1 - bestLoad,
      reason: `least loaded of ${feasible} feasible VMs: ${formatNumber(bestLoad * 100)}% committed after placement`,
    };
  }
}
