import {
  collectFeasible,
  explainInfeasible,
  type PlacementAlgorithm,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import type { FleetState } from '../fleet-state';
import { formatNumber } from '../format';
import { lowestLeftover, scaledDemand } from '../scoring';

/**
 * Multi-dimensional best fit: the feasible VM left with the least room after placement, leftovers
 * scaled by the fleet's largest capacity per dimension (scoring.ts: bestFitScore). Packing tasks
 * tightly keeps large holes free for large tasks. Ties: lowest index.
 */
export class BestFitAlgorithm implements PlacementAlgorithm {
  readonly name = 'best-fit';

  select(request: PlacementRequest, fleet: FleetState): Selection {
    const demandScaled = scaledDemand(fleet, request.demand);
    const feasible = collectFeasible(fleet, request);
    const { index: best, value: leftover } = lowestLeftover(fleet, feasible, demandScaled);
    if (best < 0) return { index: -1, reason: explainInfeasible(fleet, request) };
    const bestScore = 1 - leftover;
    return {
      index: best,
      score: bestScore,
      reason: `tightest fit of ${feasible} feasible VMs: mean leftover ${formatNumber(leftover * 100)}% of the largest VM`,
    };
  }
}
