import { afterEach, describe, expect, it } from 'vitest';
import type { FleetResponse } from '../../../lib/schemas/http';
import { inProcessRuntime } from '../helpers/in-process-runtime';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

function setup(config: Record<string, unknown> = {}, vms = 2) {
  const parts = inProcessRuntime(config, vms);
  close = () => parts.store.close();
  return parts;
}

const input = (id: string, cpu = 100) => ({ id, cpu, mem: 100, deadline: 1_900_000_000, duration: 600 });

/** A request body that records whether anyone pulled a byte of it. */
function watchedBody(text: string) {
  const watch = { pulled: false };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        watch.pulled = true;
        controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
      // No read ahead: the stream is pulled only when a reader asks.
    },
    { highWaterMark: 0 },
  );
  const init = {
    method: 'POST',
    body,
    duplex: 'half',
    headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) },
  } as RequestInit;
  return { init, watch };
}

describe('local GET /fleet', () => {
  it('flags only a draining VM with no task left as free to terminate', async () => {
    const { app, rt, engine } = setup({}, 3);
    const outcome = await engine.schedule(rt.intake.parse([input('busy-1')]));
    const busy = outcome.decisions[0]!.vmId!;
    const ids = (await rt.fleetView()).vms.map((vm) => vm.id);
    const idle = ids.find((id) => id !== busy)!;
    const active = ids.find((id) => id !== busy && id !== idle)!;
    for (const id of [busy, idle]) {
      const drained = await app.request(`/fleet/vms/${id}/drain`, { method: 'POST' });
      expect(drained.status, await drained.clone().text()).toBe(200);
    }

    const res = await app.request('/fleet');
    expect(res.status).toBe(200);
    const byId = new Map(((await res.json()) as FleetResponse).vms.map((vm) => [vm.id, vm]));
    expect(byId.get(busy)).toMatchObject({ state: 'draining', active_tasks: 1, free_to_terminate: false });
    expect(byId.get(idle)).toMatchObject({ state: 'draining', active_tasks: 0, free_to_terminate: true });
    expect(byId.get(active)).toMatchObject({ state: 'active', active_tasks: 0, free_to_terminate: false });
  });
});

describe('local POST /tasks on a full queue', () => {
  it('refuses with 429 and Retry-After without reading the body', async () => {
    const { app, rt, queue } = setup({ max_queue_depth: 2 });
    await rt.intake.submitBody([input('f-1'), input('f-2')]);
    const { init, watch } = watchedBody(JSON.stringify([input('f-3')]));

    const res = await app.request('/tasks', init);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ error: 'QueueFullError' });
    expect(watch.pulled).toBe(false);
    expect(await queue.depth()).toBe(2);
  });

  it('refuses before the content type or JSON is looked at', async () => {
    const { app, rt } = setup({ max_queue_depth: 1 });
    await rt.intake.submitBody([input('g-1')]);
    const res = await app.request('/tasks', {
      method: 'POST',
      body: '{not json',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(429);
  });

  it('reads, validates and queues the same request once there is room', async () => {
    const { app, rt, queue } = setup({ max_queue_depth: 3 });
    await rt.intake.submitBody([input('h-1')]);
    const { init, watch } = watchedBody(JSON.stringify([input('h-2')]));

    const res = await app.request('/tasks', init);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: ['h-2'], duplicates: [] });
    expect(watch.pulled).toBe(true);
    expect(await queue.depth()).toBe(2);

    const bad = await app.request('/tasks', {
      method: 'POST',
      body: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(400);
  });
});
