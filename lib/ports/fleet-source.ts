import type { Vm } from '../model/vm';

/**
 * Where the fleet comes from: EC2 + CloudWatch on AWS, a simulated fleet locally.
 * The VMs returned carry capacity, measured usage and history; `reserved` and `activeTasks`
 * are authoritative in the ledger store and are merged in by the engine.
 */
export interface FleetSource {
  listVms(): Promise<Vm[]>;
}
