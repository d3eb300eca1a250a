import type { Vm } from '../model/vm';
import type { Reservation } from '../ports/ledger-store';

/**
 * Which instances an Auto Scaling group may take away. Scale-in picks its victims by its termination
 * policy and knows nothing of tasks, so an instance holding a reservation must carry scale-in
 * protection (AWS's recommended pattern for queue workers) and lose it once its last task is gone,
 * so that scale-in can remove idle capacity. The ledger's reservations are the truth about "holds a
 * task", not the VM's measured load.
 */

/** An instance of the group as DescribeAutoScalingGroups reports it. */
export interface GroupInstance {
  readonly id: string;
  readonly protectedFromScaleIn: boolean;
}

export interface ProtectionChanges {
  /** Instances holding tasks that scale-in could currently pick. */
  readonly protect: string[];
  /** Instances protected although they hold no task any more. */
  readonly release: string[];
}

/** VM ids with at least one task assigned and not finished, per the ledger. */
export function busyInstances(
  reservations: readonly Pick<Reservation, 'vm_id' | 'active_tasks'>[],
): Set<string> {
  const busy = new Set<string>();
  for (const r of reservations) if (r.active_tasks > 0) busy.add(r.vm_id);
  return busy;
}

/**
 * The protection calls that bring the group in line with the ledger: protect every busy instance
 * that is not, release every idle one that is. Draining changes nothing here: a draining instance
 * with tasks stays protected until they finish, then is released like any idle one. Ids are sorted so
 * repeated runs send identical requests.
 */
export function protectionChanges(
  instances: readonly GroupInstance[],
  busy: ReadonlySet<string>,
): ProtectionChanges {
  const protect: string[] = [];
  const release: string[] = [];
  for (const instance of instances) {
    const wanted = busy.has(instance.id);
    if (wanted && !instance.protectedFromScaleIn) protect.push(instance.id);
    if (!wanted && instance.protectedFromScaleIn) release.push(instance.id);
  }
  return { protect: protect.sort(), release: release.sort() };
}

/**
 * A draining VM with no task left: nothing will be placed on it again and nothing runs on it, so
 * the operator (or the group, once protection is released) may terminate it.
 */
export function freeToTerminate(vm: Pick<Vm, 'state' | 'activeTasks'>): boolean {
  return vm.state === 'draining' && vm.activeTasks === 0;
}
