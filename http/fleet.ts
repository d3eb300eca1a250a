import { Hono } from 'hono';
import { NotFoundError, parseOrThrow } from '../lib/errors';
import type { Dimensions } from '../lib/model/resources';
import type { FleetSource } from '../lib/ports/fleet-source';
import type { LedgerStore } from '../lib/ports/ledger-store';
import { fleetPage } from '../lib/scaling/fleet-page';
import { fleetView } from '../lib/scaling/fleet-view';
import { admitFleet } from '../lib/scheduling/quarantine';
import { fleetQuerySchema } from '../lib/schemas/api';
import { type FleetResponse, vmIdSchema } from '../lib/schemas/http';
import { vmBody } from '../lib/schemas/views';

/** The EC2 fleet as the API shows and drains it (lib/adapters/aws, lib/adapters/autoscaling). */
export interface FleetControl {
  source: FleetSource & { invalidate?(): void };
  /** Marks the VM draining (on AWS the tag bcs:draining=true). */
  drain(vmId: string): Promise<void>;
}

/**
 * GET /fleet and POST /fleet/vms/{id}/drain over a FleetControl and the ledger's reservations: the
 * API Lambda mounts them when the stack has a fleet. The local runtime serves its simulated fleet
 * from runtime/http/routes.
 */
export function fleetRoutes(deps: {
  fleet: FleetControl;
  store: () => LedgerStore | Promise<LedgerStore>;
  dimensions: Dimensions;
}): Hono {
  const { fleet, store, dimensions } = deps;
  const app = new Hono();
  // The local runtime's shape (lib/schemas/http.ts), reservations from the ledger, plus whether a
  // drained VM may now be terminated.
  app.get('/fleet', async (c) => {
    const query = parseOrThrow(fleetQuerySchema, c.req.query(), 'invalid query');
    const vms = await fleet.source.listVms();
    // By key, the fleet's VMs only: without ids the store reads every item of the ledger.
    const reservations = await (await store()).getReservations(vms.map((vm) => vm.id));
    const members = fleetView(vms, reservations, dimensions);
    // Quarantined: records the engine refuses (its own check), and instances the source could not
    // read (left out of `vms`, counted only: there is no record to show).
    const refused = admitFleet(
      members.map((m) => m.vm),
      dimensions,
    ).quarantined;
    const reasons = new Map(refused.map((q) => [q.vm_id, q.reason]));
    const unread = fleet.source.quarantined?.() ?? [];
    // Pages in id order, as the local runtime's (lib/scaling/fleet-page.ts).
    const { page, total, next } = fleetPage(
      members.map((m) => ({ id: m.vm.id, member: m })),
      query,
    );
    const body: FleetResponse = {
      vms: page.map(({ member: { vm, freeToTerminate } }) => ({
        ...vmBody(vm, reasons.get(vm.id)),
        free_to_terminate: freeToTerminate,
      })),
      total,
      next,
      ...(refused.length + unread.length > 0 ? { quarantined: refused.length + unread.length } : {}),
    };
    return c.json(body);
  });

  app.post('/fleet/vms/:id/drain', async (c) => {
    const id = parseOrThrow(vmIdSchema, c.req.param('id'), 'invalid VM id');
    // Only fleet members: the caller names an instance, and tagging any instance of the account is
    // not this API's business (the IAM policy says the same with a resource-tag condition).
    fleet.source.invalidate?.();
    if (!(await fleet.source.listVms()).some((vm) => vm.id === id)) throw new NotFoundError(`no VM ${id}`);
    await fleet.drain(id);
    fleet.source.invalidate?.();
    return c.json({ id, state: 'draining' as const });
  });
  return app;
}
