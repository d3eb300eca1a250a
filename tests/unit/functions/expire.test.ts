import { describe, expect, it } from 'vitest';
import { expireHandler } from '../../../functions/handlers/expire';
import { verifyChain } from '../../../lib/ledger/verify';
import { scheduledEvent } from './helpers/events';
import { allBlocks, ledger, RecordingLogger, RecordingMetrics, task, vm } from './helpers/fixtures';

describe('expire: scheduled lease expiry', () => {
  it('expires the leases that ran out, releases their reservation, and leaves the others', async () => {
    // Prepare: two tasks assigned, one short (60 s) and one long (1 h); lease grace is 60 s by default.
    const { store, engine, clock } = ledger([vm('vm-a', { cpu: 1000, mem: 1000, io: 100, bw: 100 })]);
    await engine.schedule([
      task('short', { cpu: 300, mem: 0, io: 0, bw: 0 }, { duration: 60 }),
      task('long', { cpu: 300, mem: 0, io: 0, bw: 0 }, { duration: 3600 }),
    ]);
    const metrics = new RecordingMetrics();
    const handler = expireHandler({
      engine: () => engine,
      limit: 100,
      logger: new RecordingLogger(),
      metrics,
    });

    // Act: before the short lease ends, nothing; after 60 s + 60 s grace, the short one.
    clock.advance(119_000);
    const early = await handler(scheduledEvent());
    clock.advance(2_000);
    const due = await handler(scheduledEvent());

    // Assess
    expect(early).toEqual({ expired: [] });
    expect(due).toEqual({ expired: ['short'] });
    expect((await store.getTask('short'))?.status).toBe('expired');
    expect((await store.getTask('long'))?.status).toBe('assigned');
    const [reservation] = await store.getReservations();
    expect(reservation).toMatchObject({ vm_id: 'vm-a', active_tasks: 1, reserved: { cpu: 300 } });
    expect(metrics.published.map((p) => p.find((m) => m.name === 'LeasesExpired')?.value)).toEqual([0, 1]);
    expect((await verifyChain(await allBlocks(store))).valid).toBe(true);
  });
});
