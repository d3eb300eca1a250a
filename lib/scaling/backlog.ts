import type { Vm } from '../model/vm';

/**
 * Backlog per instance: the scaling signal AWS recommends for queue workers ("Scaling policy based on
 * Amazon SQS", EC2 Auto Scaling User Guide). Queue depth alone does not say whether the fleet keeps
 * up; depth divided by the VMs that can take work does, and a target-tracking policy can hold it at
 * "how many queued tasks one VM may have waiting" (the acceptable backlog per instance).
 *
 * Only `active` VMs count: a draining VM takes no new tasks (lib/model/vm.ts), so counting it would
 * hide a backlog nobody is going to place. Shared by the AWS fleet monitor (functions/fleet-monitor.ts)
 * and the local autoscaler, so both runtimes scale on the same figure.
 */

/** The part of a VM this computation reads. */
export type VmScalingView = Pick<Vm, 'state'>;

/** VMs that accept new tasks. */
export function activeInstances(vms: readonly VmScalingView[]): number {
  let active = 0;
  for (const vm of vms) if (vm.state === 'active') active += 1;
  return active;
}

/**
 * Unplaced tasks divided by active VMs. `backlog` must be a finite count >= 0 (throws RangeError
 * otherwise: a NaN here would publish a metric that silently stops the scaling policy).
 *
 * With no active VM the divisor is 1, so the whole backlog is the per-instance figure: any backlog
 * above the target then scales a group out from zero, and an empty queue reads 0, not NaN.
 */
export function backlogPerInstance(backlog: number, vms: readonly VmScalingView[]): number {
  if (!Number.isFinite(backlog) || backlog < 0) {
    throw new RangeError(`backlog must be a finite number >= 0 (got ${backlog})`);
  }
  return backlog / Math.max(1, activeInstances(vms));
}

/**
 * VMs a target-tracking policy would settle on for this backlog: ceil(backlog / target), never below
 * `min`. The local autoscaler uses it to mirror what the AWS policy does with the published metric.
 */
export function desiredInstances(backlog: number, targetBacklogPerInstance: number, min = 0): number {
  if (!Number.isFinite(backlog) || backlog < 0) {
    throw new RangeError(`backlog must be a finite number >= 0 (got ${backlog})`);
  }
  if (!Number.isFinite(targetBacklogPerInstance) || targetBacklogPerInstance <= 0) {
    throw new RangeError(
      `targetBacklogPerInstance must be a finite number > 0 (got ${targetBacklogPerInstance})`,
    );
  }
  return Math.max(min, Math.ceil(backlog / targetBacklogPerInstance));
}
