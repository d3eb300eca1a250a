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
import { formatNumber } from '../format';
import { lowestLoadAfter } from '../scoring';

/**
 * Earliest deadline first. The batch is decided by deadline ascending (then priority descending,
 * then input order). Tasks that cannot finish by their deadline never get here: the Scheduler's
 * shared deadline filters reject them for every algorithm (algorithm.ts). Each task goes to the
 * least-loaded feasible VM (lowest committed share after placement); ties go to the lowest index.
 */
export class UrgencyAlgorithm implements PlacementAlgorithm {
  readonly name = 'urgency';

  order(tasks: readonly Task[]): Task[] {
    const keyed = tasks.map((task, index) => ({ task, index }));
    keyed.sort(
      (a, b) => a.task.deadline - b.task.deadline || b.task.priority - a.task.priority || a.index - b.index,
    );
    return keyed.map((k) => k.task);
  }

  select(request: PlacementRequest, fleet: FleetState, ctx: PlacementContext): Selection {
    const { task } = request;
    const remaining = task.deadline - ctx.now / 1000;
    const feasible = collectFeasible(fleet, request);
    const { index: best, value: bestLoad } = lowestLoadAfter(fleet, feasible, request.demand);
    if (best < 0) return { index: -1, reason: explainInfeasible(fleet, request) };
    return {
      index: best,
      score: 1 - bestLoad,
      reason: `deadline met with ${formatNumber(remaining - task.duration)} s slack; least-loaded feasible VM (${formatNumber(bestLoad * 100)}% committed after placement)`,
    };
  }
}
