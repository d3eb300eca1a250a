import type { Dimensions } from '../../model/resources';
import {
  explainInfeasible,
  isFeasible,
  type PlacementAlgorithm,
  type PlacementContext,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import type { FleetState } from '../fleet-state';
import { formatNumber } from '../format';
import { resourceScore } from '../scoring';

/**
 * The original load balancer's resource-based policy: the feasible VM with the most free resources,
 * as a weighted sum over dimensions of what it could still give after this task
 * (scoring.ts: resourceScore). `params.weights` sets the weight per dimension (default 1 each).
 * Ties: lowest index.
 */
export class ResourceBasedAlgorithm implements PlacementAlgorithm {
  readonly name = 'resource-based';
  // Weights laid out for the last fleet's dimensions, rebuilt only when those change.
  private weightsFor: Dimensions | null = null;
  private weights = new Float64Array(0);
  private weightSum = 0;

  select(request: PlacementRequest, fleet: FleetState, ctx: PlacementContext): Selection {
    if (this.weightsFor !== fleet.dimensions) this.layOutWeights(fleet.dimensions, ctx);
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    let feasible = 0;
    for (let i = 0; i < fleet.size; i++) {
      if (!isFeasible(fleet, i, request)) continue;
      feasible++;
      const score = resourceScore(fleet, i, request.demand, this.weights, this.weightSum);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    if (best < 0) return { index: -1, reason: explainInfeasible(fleet, request) };
    return {
      index: best,
      score: bestScore,
      reason: `most free resources of ${feasible} feasible VMs: weighted free share ${formatNumber(bestScore * 100)}% after placement`,
    };
  }

  private layOutWeights(dimensions: Dimensions, ctx: PlacementContext): void {
    const configured = ctx.params.weights ?? {};
    this.weights = Float64Array.from(dimensions, (d) => configured[d] ?? 1);
    this.weightSum = this.weights.reduce((a, b) => a + b, 0);
    this.weightsFor = dimensions;
  }
}
