import { MAX_VMS_PER_PAGE } from '../schemas/api';

/** VM ids in the order GET /fleet pages them: natural order, so vm-2 comes before vm-10. */
const VM_ORDER = new Intl.Collator('en', { numeric: true });

export interface FleetPage<T> {
  page: T[];
  total: number;
  /** The `after` of the next page; null on the last. */
  next: string | null;
}

/**
 * One GET /fleet page, the same on both runtimes (docs/local.md "HTTP API"): the VMs in id order, at
 * most `limit` of them after the VM `after`, whether or not that VM is still in the fleet.
 */
export function fleetPage<T extends { id: string }>(
  all: readonly T[],
  query: { limit?: number; after?: string | undefined } = {},
): FleetPage<T> {
  const limit = query.limit ?? MAX_VMS_PER_PAGE;
  const vms = [...all].sort((a, b) => VM_ORDER.compare(a.id, b.id));
  let start = 0;
  if (query.after !== undefined) {
    const after = query.after;
    let lo = 0;
    let hi = vms.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (VM_ORDER.compare(vms[mid]!.id, after) <= 0) lo = mid + 1;
      else hi = mid;
    }
    start = lo;
  }
  const page = vms.slice(start, start + limit);
  return { page, total: vms.length, next: start + limit < vms.length ? page.at(-1)!.id : null };
}
