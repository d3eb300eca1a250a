import type { Dimensions } from '../../lib/model/resources';
import type { Vm } from '../../lib/model/vm';
import type { Clock } from '../../lib/ports/clock';
import type { AutoscaleConfig } from '../../lib/schemas/config';
import type { AutoscaleStatusBody, ScalingEvent } from '../../lib/schemas/http';
import {
  type AutoscalePolicyOptions,
  decideScaling,
  INITIAL_MEMORY,
  type ObservedVm,
  type PolicyMemory,
  type PolicyResult,
} from './autoscaling-policy';
import type { SimulatedFleet } from './simulated-fleet';

/** The part of the simulated fleet the autoscaler drives. */
export type ScalableFleet = Pick<
  SimulatedFleet,
  'snapshot' | 'addVms' | 'drain' | 'retire' | 'has' | 'runningOn' | 'size' | 'managedBy'
>;

export interface AutoscalerOptions {
  fleet: ScalableFleet;
  dimensions: Dimensions;
  /** Tasks each VM holds according to the ledger (the truth; the simulation may lag it). */
  ledgerTasks: () => Promise<ReadonlyMap<string, number>>;
  /** Tasks waiting in the queue. */
  backlog: () => Promise<number>;
  clock: Clock;
  policy: AutoscalePolicyOptions;
  onEvent: (event: ScalingEvent) => void;
}

export function policyOptions(config: AutoscaleConfig): AutoscalePolicyOptions {
  return {
    min: config.min,
    max: config.max,
    targetBacklogPerVm: config.target_backlog_per_vm,
    maxStep: config.max_step,
    scaleOutWindowMs: config.scale_out_window_s * 1000,
    scaleOutCooldownMs: config.scale_out_cooldown_s * 1000,
    scaleInWindowMs: config.scale_in_window_s * 1000,
    scaleInCooldownMs: config.scale_in_cooldown_s * 1000,
  };
}

/**
 * Runs the scaling policy (autoscaling-policy.ts) against the simulated fleet, one `tick` at a time;
 * the runtime calls it on a timer, tests call it directly. A VM it drains stays in the fleet until
 * a later tick finds it holding nothing in the ledger and running nothing in the simulation: never
 * in the tick that drained it, so a batch listed before the drain has had a tick to commit.
 */
export class Autoscaler {
  private memory: PolicyMemory = INITIAL_MEMORY;
  private readonly draining = new Set<string>();
  private readonly counts = { scale_outs: 0, scale_ins: 0, retired: 0 };
  private latest: { backlog: number; backlogPerVm: number; active: number } | null = null;
  private last: ScalingEvent | null = null;

  constructor(private readonly options: AutoscalerOptions) {}

  async tick(): Promise<PolicyResult> {
    const { fleet, clock, policy } = this.options;
    const ledger = await this.options.ledgerTasks();
    const backlog = await this.options.backlog();
    const now = clock.now();

    const retired: string[] = [];
    for (const id of [...this.draining]) {
      if (!fleet.has(id)) this.draining.delete(id);
      else if ((ledger.get(id) ?? 0) === 0 && fleet.retire(id)) {
        this.draining.delete(id);
        retired.push(id);
      }
    }

    const vms = fleet.snapshot();
    const observed = vms.map((vm) => this.observe(vm, ledger));
    const result = decideScaling({ now, backlog, vms: observed }, this.memory, policy);
    this.memory = result.memory;
    const { decision } = result;
    const emit = (action: ScalingEvent['action'], vmIds: string[], reason: string) => {
      const snapshot = fleet.snapshot();
      const event: ScalingEvent = {
        at: new Date(now).toISOString(),
        action,
        vm_ids: vmIds,
        reason,
        backlog,
        backlog_per_vm: result.backlogPerVm,
        fleet_size: snapshot.length,
        active_vms: snapshot.filter((vm) => vm.state === 'active').length,
      };
      this.last = event;
      this.options.onEvent(event);
    };

    if (retired.length > 0) {
      this.counts.retired += retired.length;
      emit('retire', retired, 'drained and holding no task in the ledger');
    }
    if (decision.action === 'scale-out') {
      const added = fleet.addVms(decision.count);
      this.counts.scale_outs += 1;
      emit('scale-out', added, decision.reason);
    } else if (decision.action === 'scale-in') {
      const drained = decision.drain.filter((id) => fleet.drain(id, { retireWhenEmpty: false }));
      for (const id of drained) this.draining.add(id);
      this.counts.scale_ins += 1;
      emit('scale-in', drained, decision.reason);
    }
    this.latest = { backlog, backlogPerVm: result.backlogPerVm, active: result.active };
    return result;
  }

  /** For the metrics snapshot and GET /config. */
  status(): AutoscaleStatusBody {
    const vms = this.options.fleet.snapshot();
    return {
      enabled: true,
      fleet_size: vms.length,
      active_vms: vms.filter((vm) => vm.state === 'active').length,
      backlog: this.latest?.backlog ?? 0,
      backlog_per_vm: this.latest?.backlogPerVm ?? 0,
      ...this.counts,
      last: this.last,
    };
  }

  private observe(vm: Vm, ledger: ReadonlyMap<string, number>): ObservedVm {
    return {
      id: vm.id,
      state: vm.state,
      activeTasks: Math.max(ledger.get(vm.id) ?? 0, vm.activeTasks),
      load: reservedShare(vm, this.options.dimensions),
      // The autoscaler adds simulated VMs only, so it removes only those; an agent's VM is the operator's.
      protected: this.options.fleet.managedBy(vm.id) === 'agent',
    };
  }
}

/** Mean reserved share of capacity over the dimensions the VM has. */
function reservedShare(vm: Vm, dimensions: Dimensions): number {
  let sum = 0;
  let counted = 0;
  for (const d of dimensions) {
    const capacity = vm.capacity[d] ?? 0;
    if (capacity <= 0) continue;
    sum += Math.max(0, vm.reserved[d] ?? 0) / capacity;
    counted += 1;
  }
  return counted > 0 ? sum / counted : 0;
}
