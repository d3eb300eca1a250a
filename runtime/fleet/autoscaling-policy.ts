import type { VmState } from '../../lib/model/vm';
import { activeInstances, backlogPerInstance, desiredInstances } from '../../lib/scaling/backlog';

/**
 * The local autoscaler's decision, as a pure function of what it observes and what it remembers, so
 * every rule is tested with plain numbers and no timers. It mirrors an EC2 Auto Scaling group with a
 * target-tracking policy on backlog per instance: bounds first, then a sustained breach of the
 * target (the alarm's evaluation period), then the cooldown of that direction.
 */

export interface AutoscalePolicyOptions {
  /** Active VMs never drained below this. */
  min: number;
  /** VMs in the fleet (active and draining) never added beyond this. */
  max: number;
  /** Waiting tasks one active VM may have. */
  targetBacklogPerVm: number;
  /** Most VMs added or drained by one decision. */
  maxStep: number;
  scaleOutWindowMs: number;
  scaleOutCooldownMs: number;
  scaleInWindowMs: number;
  scaleInCooldownMs: number;
}

export interface ObservedVm {
  id: string;
  state: VmState;
  /** Tasks the VM holds: the ledger's count, or the simulation's when that is higher. */
  activeTasks: number;
  /** Reserved share of capacity in [0, 1], to pick the idlest VM; ties go to the newest. */
  load: number;
  /** Never drained by the policy (an ASG's scale-in protection): e.g. a VM an agent runs. */
  protected?: boolean;
}

export interface FleetObservation {
  now: number;
  /** Tasks waiting in the queue (visible, delayed and in flight). */
  backlog: number;
  vms: readonly ObservedVm[];
}

/** What the policy carries from one tick to the next. */
export interface PolicyMemory {
  /** Since when backlog per VM has been above target; null when it is not. */
  aboveSince: number | null;
  belowSince: number | null;
  lastScaleOutAt: number;
  lastScaleInAt: number;
}

export const INITIAL_MEMORY: PolicyMemory = {
  aboveSince: null,
  belowSince: null,
  lastScaleOutAt: Number.NEGATIVE_INFINITY,
  lastScaleInAt: Number.NEGATIVE_INFINITY,
};

export type ScalingAction =
  | { action: 'scale-out'; count: number; reason: string }
  | { action: 'scale-in'; drain: string[]; reason: string }
  | { action: 'hold'; reason: string };

export interface PolicyResult {
  decision: ScalingAction;
  memory: PolicyMemory;
  backlogPerVm: number;
  active: number;
}

export function decideScaling(
  observed: FleetObservation,
  memory: PolicyMemory,
  options: AutoscalePolicyOptions,
): PolicyResult {
  const { now, backlog, vms } = observed;
  const { min, max, targetBacklogPerVm: target, maxStep } = options;
  const active = activeInstances(vms);
  const total = vms.length;
  const perVm = backlogPerInstance(backlog, vms);
  const result = (decision: ScalingAction, next: PolicyMemory): PolicyResult => ({
    decision,
    memory: next,
    backlogPerVm: perVm,
    active,
  });
  const above = perVm > target;
  const below = perVm < target;
  const next: PolicyMemory = {
    ...memory,
    aboveSince: above ? (memory.aboveSince ?? now) : null,
    belowSince: below ? (memory.belowSince ?? now) : null,
  };
  const room = Math.max(0, max - total);

  // Bounds hold whatever the backlog and cooldowns say, as a group's min and max do.
  if (active < min && room > 0) {
    const count = Math.min(min - active, room);
    return result(
      { action: 'scale-out', count, reason: `${active} active VMs, below the minimum ${min}` },
      { ...next, lastScaleOutAt: now },
    );
  }
  if (active > max) {
    const drain = idlest(vms, active - max);
    if (drain.length > 0) {
      return result(
        { action: 'scale-in', drain, reason: `${active} active VMs, above the maximum ${max}` },
        { ...next, lastScaleInAt: now },
      );
    }
  }

  const shown = round(perVm);
  if (above) {
    const sustained = now - (next.aboveSince ?? now);
    if (sustained < options.scaleOutWindowMs) {
      return result(
        { action: 'hold', reason: `backlog per VM ${shown} above ${target} for ${sustained} ms` },
        next,
      );
    }
    if (now - memory.lastScaleOutAt < options.scaleOutCooldownMs) {
      return result({ action: 'hold', reason: 'scale-out cooldown' }, next);
    }
    const wanted = desiredInstances(backlog, target, min) - active;
    const count = Math.min(wanted, maxStep, room);
    if (count <= 0) return result({ action: 'hold', reason: `at the maximum of ${max} VMs` }, next);
    return result(
      {
        action: 'scale-out',
        count,
        reason: `backlog per VM ${shown} above target ${target} for ${sustained} ms`,
      },
      { ...next, lastScaleOutAt: now },
    );
  }

  if (below) {
    const sustained = now - (next.belowSince ?? now);
    if (sustained < options.scaleInWindowMs) {
      return result(
        { action: 'hold', reason: `backlog per VM ${shown} below ${target} for ${sustained} ms` },
        next,
      );
    }
    if (now - memory.lastScaleInAt < options.scaleInCooldownMs) {
      return result({ action: 'hold', reason: 'scale-in cooldown' }, next);
    }
    const surplus = Math.min(active - desiredInstances(backlog, target, min), maxStep);
    if (surplus <= 0) return result({ action: 'hold', reason: `at the minimum of ${min} VMs` }, next);
    const drain = idlest(vms, surplus);
    if (drain.length === 0) return result({ action: 'hold', reason: 'no idle VM to drain' }, next);
    return result(
      {
        action: 'scale-in',
        drain,
        reason: `backlog per VM ${shown} below target ${target} for ${sustained} ms`,
      },
      { ...next, lastScaleInAt: now },
    );
  }

  return result({ action: 'hold', reason: `backlog per VM at target ${target}` }, next);
}

/**
 * Up to `count` active VMs that hold no task, least loaded first, newest first among equals (the
 * initial VMs stay). A VM holding a task is never chosen: capacity in use is never given up, and
 * the VM would have to stay anyway until its tasks end.
 */
function idlest(vms: readonly ObservedVm[], count: number): string[] {
  return vms
    .filter((vm) => vm.state === 'active' && vm.activeTasks === 0 && !vm.protected)
    .sort((a, b) => a.load - b.load || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
    .slice(0, Math.max(0, count))
    .map((vm) => vm.id);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
