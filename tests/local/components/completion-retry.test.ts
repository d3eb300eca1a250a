import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppendRetriesExhausted } from '../../../lib/engine/errors';
import { inProcessRuntime } from '../helpers/in-process-runtime';

let stop: (() => Promise<void>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

/**
 * At saturation the scheduler thread and the runtime's completions append to one chain, and a
 * completion can lose the head race more times than the engine retries. A task that finished must
 * still be recorded as completed (on a later tick), not left to lease expiry and recorded as expired.
 */
describe('a finished task whose completion fails to commit', () => {
  it('is completed on a later tick, not expired', async () => {
    const parts = inProcessRuntime({ fleet: { size: 1, tick_ms: 10 } }, 1);
    const { rt, app, engine, clock, logged, store } = parts;
    const completeMany = engine.completeMany.bind(engine);
    let failures = 0;
    const spy = vi.spyOn(engine, 'completeMany').mockImplementation(async (ids) => {
      if (failures++ === 0) throw new AppendRetriesExhausted(8, 'head-moved', 'lost the head race');
      return completeMany(ids);
    });
    await rt.start();
    stop = async () => {
      await rt.stop().catch(() => undefined);
      await store.close().catch(() => undefined);
    };
    const deadline = Math.floor(clock.now() / 1000) + 3600;
    const res = await app.request('/tasks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ id: 'raced', cpu: 100, mem: 100, io: 1, bw: 1, duration: 5, deadline }]),
    });
    expect(res.status).toBe(202);
    const status = async () =>
      ((await (await app.request('/tasks/raced')).json()) as { status: string }).status;
    await vi.waitFor(async () => expect(await status()).toBe('assigned'), { timeout: 30_000, interval: 20 });

    // Its run ends; the first completion attempt fails, a later tick records it.
    clock.advance(5_000);
    await vi.waitFor(() => expect(logged.some((line) => line.startsWith('fleet:'))).toBe(true), {
      timeout: 30_000,
      interval: 20,
    });
    expect(await status()).toBe('assigned');
    clock.advance(1_000);
    await vi.waitFor(async () => expect(await status()).toBe('completed'), { timeout: 30_000, interval: 20 });
    expect(failures).toBe(2);
    expect(spy.mock.calls.every(([ids]) => ids.length === 1 && ids[0] === 'raced')).toBe(true);
    expect(logged.some((line) => line.startsWith('fleet:') && line.includes('lost the head race'))).toBe(
      true,
    );
    const summary = (await (await app.request('/ledger')).json()) as { completed: number; expired: number };
    expect(summary).toMatchObject({ completed: 1, expired: 0 });
  });
});
