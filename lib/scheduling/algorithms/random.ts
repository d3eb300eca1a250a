import {
  collectFeasible,
  explainInfeasible,
  type PlacementAlgorithm,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import type { FleetState } from '../fleet-state';
import { mulberry32 } from '../prng';
import { DEFAULT_SEED } from './p2c';

/**
 * A feasible VM drawn uniformly at random (seeded), and on it GPU devices drawn at random among
 * those that can hold the task: the baseline every placement study reports (Weng et al.'s
 * "Random"), and the floor any policy worth its cost must beat. Score 0.
 */
export class RandomAlgorithm implements PlacementAlgorithm {
  readonly name = 'random';
  private readonly random: () => number;

  constructor(seed: number = DEFAULT_SEED) {
    this.random = mulberry32(seed);
  }

  select(request: PlacementRequest, fleet: FleetState): Selection {
    const count = collectFeasible(fleet, request);
    if (count === 0) return { index: -1, reason: explainInfeasible(fleet, request) };
    const index = fleet.candidates[Math.floor(this.random() * count)]!;
    const reason = `drawn at random from ${count} feasible VMs`;
    if (request.gpu === null || fleet.devices === null || fleet.devices.count(index) === 0) {
      return { index, score: 0, reason };
    }
    // A partial Fisher-Yates draw of `count` devices out of the usable ones.
    const usable = fleet.devices.usable(index, request.gpu);
    for (let k = 0; k < request.gpu.count; k++) {
      const j = k + Math.floor(this.random() * (usable.length - k));
      [usable[k], usable[j]] = [usable[j]!, usable[k]!];
    }
    return { index, score: 0, reason, devices: usable.slice(0, request.gpu.count).sort((a, b) => a - b) };
  }
}
