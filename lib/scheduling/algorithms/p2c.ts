import {
  collectFeasible,
  explainInfeasible,
  type PlacementAlgorithm,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import type { FleetState } from '../fleet-state';
import { formatNumber } from '../format';
import { mulberry32 } from '../prng';
import { reservedLoadAfter } from '../scoring';

export const DEFAULT_SEED = 0x5eed;

/**
 * Power of two choices: draw two distinct feasible VMs uniformly at random and take the one with the
 * lower committed share after placement (the first drawn on a tie). Sampling two instead of scanning
 * for the minimum avoids herding when many schedulers act on the same stale view, and still keeps the
 * maximum load exponentially closer to the mean than a single random choice. The PRNG is seeded, so
 * the same seed and inputs give the same decisions. Score = 1 - committed share, in [0, 1].
 */
export class PowerOfTwoChoicesAlgorithm implements PlacementAlgorithm {
  readonly name = 'p2c';
  private readonly random: () => number;

  constructor(seed: number = DEFAULT_SEED) {
    this.random = mulberry32(seed);
  }

  select(request: PlacementRequest, fleet: FleetState): Selection {
    const count = collectFeasible(fleet, request);
    const feasible = fleet.candidates;
    if (count === 0) return { index: -1, reason: explainInfeasible(fleet, request) };

    const first = Math.floor(this.random() * count);
    const a = feasible[first]!;
    if (count === 1) {
      const load = reservedLoadAfter(fleet, a, request.demand);
      return { index: a, score: 1 - load, reason: 'only feasible VM' };
    }
    // Uniform over the other count - 1 positions.
    let second = Math.floor(this.random() * (count - 1));
    if (second >= first) second++;
    const b = feasible[second]!;
    const loadA = reservedLoadAfter(fleet, a, request.demand);
    const loadB = reservedLoadAfter(fleet, b, request.demand);
    const [index, load, other] = loadB < loadA ? [b, loadB, loadA] : [a, loadA, loadB];
    return {
      index,
      score: 1 - load,
      reason: `less loaded of two sampled from ${count} feasible VMs: ${formatNumber(load * 100)}% vs ${formatNumber(other * 100)}% committed after placement`,
    };
  }
}
