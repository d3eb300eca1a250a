import type { Vm } from '../model/vm';

/** A VM left out of scheduling because its record cannot be trusted; the rest of the fleet goes on. */
export interface QuarantinedVm {
  vm_id: string;
  /** What is wrong with it, naming the field (`capacity.io: must be 0 or at least 0.000001`). */
  reason: string;
}

/**
 * Where the fleet comes from: EC2 + CloudWatch on AWS, a simulated fleet locally.
 * The VMs returned carry capacity, measured usage and history; `reserved` and `activeTasks`
 * are authoritative in the ledger store and are merged in by the engine.
 */
export interface FleetSource {
  listVms(): Promise<Vm[]>;
  /**
   * VMs the last `listVms` left out because the source could not read them (metadata or metrics
   * unavailable): reported, never placed on. Omitted by sources that never leave one out.
   */
  quarantined?(): readonly QuarantinedVm[];
}
