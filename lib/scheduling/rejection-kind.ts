import { isFeasible, matchesConstraints, type PlacementRequest } from './algorithm';
import type { FleetState } from './fleet-state';
import type { RejectionKind } from './types';

/**
 * Why an algorithm that states no kind of its own placed `request` nowhere. Waiting helps only when
 * some VM whose labels match could hold the task on its full capacity; draining VMs count, because
 * their shape is the fleet's and a replacement (or the autoscaler) brings that room back. Runs only
 * on rejection.
 */
export function rejectionKind(fleet: FleetState, request: PlacementRequest): RejectionKind {
  const { size, width, capacity } = fleet;
  const demand = request.demand;
  if (request.deviceProblem !== undefined) {
    return request.task.gpuModels?.length && fleet.devices === null ? 'constraints' : 'never-fits';
  }
  const devices = request.gpu === null ? null : fleet.devices;
  let matching = 0;
  let couldFit = false;
  for (let i = 0; i < size; i++) {
    if (request.constraints.length > 0 && !matchesConstraints(fleet, i, request)) continue;
    matching++;
    // The algorithm passed over a VM it could have taken now: its own rule, not a lack of room.
    if (isFeasible(fleet, i, request)) return 'policy';
    let fits = true;
    for (let d = 0; d < width && fits; d++) fits = demand[d]! <= capacity[i * width + d]!;
    if (fits && devices !== null) fits = devices.couldEverFit(i, request.gpu!);
    couldFit ||= fits;
  }
  if (couldFit) return 'capacity';
  return size > 0 && matching === 0 ? 'constraints' : 'never-fits';
}
