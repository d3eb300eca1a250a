import {
  collectFeasible,
  explainInfeasible,
  type PlacementAlgorithm,
  type PlacementContext,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import type { FleetState } from '../fleet-state';
import { formatNumber } from '../format';
import { highestResourceScore, resourceDemandTerm, resourceFactors } from '../scoring';
import type { AlgorithmParams } from '../types';

/**
 * The original load balancer's resource-based policy: the feasible VM with the most free resources,
 * as a weighted sum over dimensions of what it could still give after this task
 * (scoring.ts: resourceScore). `params.weights` sets the weight per dimension (default 1 each).
 * Ties: lowest index.
 */
export class ResourceBasedAlgorithm implements PlacementAlgorithm {
  readonly name = 'resource-based';
  // Per-dimension factors depend only on the fleet's scale and the weights: computed once per fleet.
  private factorsFor: { fleet: FleetState; params: AlgorithmParams } | null = null;
  private factors: Float64Array = new Float64Array(0);

  select(request: PlacementRequest, fleet: FleetState, ctx: PlacementContext): Selection {
    if (this.factorsFor?.fleet !== fleet || this.factorsFor.params !== ctx.params) {
      const configured = ctx.params.weights ?? {};
      this.factors = resourceFactors(
        fleet,
        Float64Array.from(fleet.dimensions, (d) => configured[d] ?? 1),
      );
      this.factorsFor = { fleet, params: ctx.params };
    }
    const factors = this.factors;
    const demandTerm = resourceDemandTerm(factors, request.demand);

    const feasible = collectFeasible(fleet, request);
    const { index: best, value: bestScore } = highestResourceScore(fleet, feasible, factors, demandTerm);
    if (best < 0) return { index: -1, reason: explainInfeasible(fleet, request) };
    return {
      index: best,
      score: bestScore,
      reason: `most free resources of ${feasible} feasible VMs: weighted free share ${formatNumber(bestScore * 100)}% after placement`,
    };
  }
}
