import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FleetState } from '../../../lib/scheduling/fleet-state';
import { runtimeConfigSchema } from '../../../lib/schemas/config';
import { seededRandom } from '../../../lib/simulation/rng';
import { SimulatedFleet } from '../../../runtime/fleet/simulated-fleet';
import { inProcessRuntime } from '../helpers/in-process-runtime';

/**
 * One validation for every entry point: whatever POST /fleet/vms or the config file accepts, the
 * engine's own fleet check (FleetState.from) accepts too, so no accepted request can stop scheduling
 * later (the bug: `{"capacity":{"io":1e-9}}` answered 201, then every batch failed "invalid fleet").
 */

const dimensions = ['cpu', 'mem', 'io', 'bw'];

/** Amounts around every edge: 0, subnormals, below and at MIN_CAPACITY, MAX_AMOUNT, beyond it, non-numbers. */
const amountArb = fc.oneof(
  fc.constantFrom(0, 5e-324, 1e-9, 9.99e-7, 1e-6, 1.0000001e-6, 1, 1e12, 1e12 + 1, -0, -1e-9, Infinity),
  fc.double({ min: 0, max: 1e-5, noNaN: true }),
  fc.double({ min: -1, max: 2e12, noNaN: true }),
  fc.constantFrom('1', null, true),
);

const capacityArb = fc.dictionary(fc.constantFrom(...dimensions, 'gpu', '__proto__'), amountArb, {
  maxKeys: 5,
});

const bodyArb = fc.record(
  {
    count: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 1.5, -1, '2')),
    capacity: capacityArb,
    labels: fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
    managed: fc.constantFrom('simulation', 'agent', 'other'),
  },
  { requiredKeys: [] },
);

describe('the API and the engine share one fleet validation', () => {
  it('any POST /fleet/vms body the API accepts yields a fleet the engine accepts and schedules on', async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, async (body) => {
        const { app, rt, engine, store } = inProcessRuntime({}, 1);
        try {
          const res = await app.request('/fleet/vms', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
          expect([201, 400], await res.clone().text()).toContain(res.status);
          const vms = await rt.vms();
          // The engine's check: throws a ValidationError naming the field for anything it refuses.
          expect(() => FleetState.from(vms, dimensions)).not.toThrow();
          const outcome = await engine.schedule(
            rt.intake.parse([{ id: 't', cpu: 1e-6, deadline: 1_900_000_000, duration: 60 }]),
          );
          expect(outcome.quarantined ?? []).toEqual([]);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 200 },
    );
  });

  it('any fleet capacity the config file accepts yields a fleet the engine accepts', () => {
    fc.assert(
      fc.property(capacityArb, (capacity) => {
        const parsed = runtimeConfigSchema.safeParse({ fleet: { capacity, size: 2 } });
        if (!parsed.success) return;
        const config = parsed.data;
        const fleet = new SimulatedFleet({
          dimensions: config.dimensions,
          defaultCapacity: { ...config.fleet.capacity },
          zones: config.fleet.zones,
          speed: 1,
          noise: 0,
          historyWindow: 5,
          random: seededRandom(1),
        });
        fleet.addVms(config.fleet.size);
        expect(() => FleetState.from(fleet.snapshot(), config.dimensions)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('refuses the capacity of the reported bug with the engine message, naming the field', async () => {
    const { app, store } = inProcessRuntime({}, 1);
    try {
      const res = await app.request('/fleet/vms', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ capacity: { io: 1e-9 } }),
      });
      expect(res.status).toBe(400);
      // 1e-9 also has more than 6 decimal places (lib/model/amount.ts): both rules are named.
      expect(((await res.json()) as { issues: unknown[] }).issues).toEqual(
        expect.arrayContaining([{ field: 'capacity.io', message: 'must be 0 or at least 0.000001' }]),
      );
    } finally {
      await store.close();
    }
  });
});
