import { describe, expect, it } from 'vitest';
import { burstServerConfig, burstSettingsSchema, runBurst } from '../../../scripts/reliability/burst';
import { startServer } from '../helpers/server';

/**
 * CI size of `scripts/reliability/burst.ts` (docs/reliability.md, "Burst: ten times the steady
 * rate"): about 2 s measuring the steady rate, 5 s at ten times it. The invariants are asserted,
 * never the timings.
 */
describe('a burst at ten times the steady rate through POST /tasks', () => {
  it('answers only 202, or 429/503 with Retry-After; every accepted task is decided once, no refused one is written', async () => {
    const settings = burstSettingsSchema.parse({
      steady: 2,
      burst: 5,
      factor: 10,
      maxQueueDepth: 1000,
      drain: 120,
    });
    const server = await startServer({ config: burstServerConfig(settings) });
    try {
      const { figures, findings } = await runBurst(server.url, settings);
      expect(findings).toEqual([]);
      // The run tested something: some tasks got in, and the queue bound was hit.
      expect(figures.status['202']).toBeGreaterThan(0);
      expect(figures.status['429']).toBeGreaterThan(0);
      expect(Object.keys(figures.status).filter((s) => !['202', '429', '503'].includes(s))).toEqual([]);
      expect(figures.tasks_accepted).toBeLessThan(figures.tasks_sent);
      expect(figures.still_queued + figures.decided).toBeGreaterThanOrEqual(figures.tasks_accepted);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 240_000);
});
