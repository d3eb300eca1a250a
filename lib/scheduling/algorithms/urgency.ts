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
 * then input order). Beyond the shared past-deadline filter, a task that cannot finish by its
 * deadline even if it started now (now + duration > deadline) is rejected rather than placed to miss
 * it: that stricter rule is this algorithm's policy, the others place such a task. Otherwise it goes to the
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
    if (ctx.now / 1000 + task.duration > task.deadline) {
      return {
        index: -1,
        kind: 'deadline',
        reason: `deadline cannot be met: needs ${formatNumber(task.duration)} s, ${formatNumber(Math.max(0, remaining))} s remain until deadline ${task.deadline}`,
      };
    }
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
