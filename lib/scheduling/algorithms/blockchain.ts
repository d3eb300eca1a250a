import type { Task } from '../../model/task';
import {
  collectFeasible,
  explainInfeasible,
  type PlacementAlgorithm,
  type PlacementContext,
  type PlacementRequest,
  type Selection,
} from '../algorithm';
import type { FleetState } from '../fleet-state';
import { blockchainScore, lowestDynamicWeight, urgencyFactor } from '../scoring';

/**
 * The original system's dynamic-weight scheduler. For task t on VM v:
 *   DW(v)    = alpha * current(v) + beta * historical(v)      (scoring.ts: dynamicWeight)
 *   UF(t)    = 1 / (tau * time_remaining(t))                  (scoring.ts: urgencyFactor)
 *   score    = UF(t) / DW(v)                                  (scoring.ts: blockchainScore)
 * The batch is decided most urgent first (UF descending; then priority descending; then input
 * order), and each task goes to the feasible VM with the highest score, i.e. the lowest DW: UF is the
 * same for every VM, so it scales the recorded score without changing the choice.
 */
export class BlockchainAlgorithm implements PlacementAlgorithm {
  readonly name = 'blockchain';

  order(tasks: readonly Task[], ctx: PlacementContext): Task[] {
    const { tau } = ctx.params;
    const keyed = tasks.map((task, index) => ({
      task,
      index,
      uf: urgencyFactor(task.deadline, ctx.now, tau),
    }));
    keyed.sort(
      (a, b) =>
        b.uf - a.uf ||
        b.task.priority - a.task.priority ||
        a.task.deadline - b.task.deadline ||
        a.index - b.index,
    );
    return keyed.map((k) => k.task);
  }

  select(request: PlacementRequest, fleet: FleetState, ctx: PlacementContext): Selection {
    const { alpha, beta, tau } = ctx.params;
    const uf = urgencyFactor(request.task.deadline, ctx.now, tau);
    const feasible = collectFeasible(fleet, request);
    const { index: best, value: bestWeight } = lowestDynamicWeight(fleet, feasible, alpha, beta);
    if (best < 0) return { index: -1, reason: explainInfeasible(fleet, request) };
    const score = blockchainScore(uf, bestWeight);
    return {
      index: best,
      score,
      reason: `highest UF/DW among ${feasible} feasible VMs: UF ${uf.toPrecision(4)}, DW ${bestWeight.toPrecision(4)}`,
    };
  }
}
