import { afterEach, describe, expect, it } from 'vitest';
import { runtimeConfigSchema } from '../../../lib/schemas/config';
import type {
  DeadLettersResponse,
  FleetResponse,
  QueueResponse,
  SnapshotEvent,
} from '../../../lib/schemas/http';
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

const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** Resolves when `check` holds, polling; fails after a deadline generous enough for a loaded machine. */
async function eventually(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('a cap on fleet size', () => {
  it('answers 409 naming max_fleet_size when POST /fleet/vms would pass it, and adds nothing', async () => {
    const { app, fleet } = setup({ max_fleet_size: 5 }, 3);
    const ok = await app.request('/fleet/vms', post({ count: 2 }));
    expect(ok.status).toBe(201);
    const refused = await app.request('/fleet/vms', post({ count: 1 }));
    expect(refused.status).toBe(409);
    expect(await refused.json()).toEqual({
      error: 'LimitExceededError',
      message: 'the fleet holds 5 VMs; adding 1 would pass max_fleet_size (5)',
      limit: { name: 'max_fleet_size', value: 5 },
      issues: [{ field: 'count', message: 'the fleet holds 5 VMs; adding 1 would pass max_fleet_size (5)' }],
    });
    expect(fleet.size).toBe(5);
  });

  it('refuses a config whose start size or autoscaling maximum exceeds it, naming the field', () => {
    const small = runtimeConfigSchema.safeParse({ max_fleet_size: 10, fleet: { size: 11 } });
    expect(small.success).toBe(false);
    expect(small.error!.issues[0]).toMatchObject({
      path: ['fleet', 'size'],
      message: 'must be at most max_fleet_size (10)',
    });
    const scaling = runtimeConfigSchema.safeParse({
      max_fleet_size: 10,
      autoscale: { enabled: true, max: 20 },
    });
    expect(scaling.error!.issues[0]).toMatchObject({ path: ['autoscale', 'max'] });
    expect(runtimeConfigSchema.parse({}).max_fleet_size).toBe(10_000);
  });
});

describe('GET /fleet pages', () => {
  it('lists VMs in id order, limit at a time, with the total and the cursor of the next page', async () => {
    const { app } = setup({}, 12);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const res = await app.request(`/fleet?limit=5${after === null ? '' : `&after=${after}`}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as FleetResponse;
      expect(body.total).toBe(12);
      expect(body.vms.length).toBeLessThanOrEqual(5);
      seen.push(...body.vms.map((vm) => vm.id));
      after = body.next ?? null;
      pages++;
    } while (after !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `vm-${String(i + 1).padStart(3, '0')}`));
  });

  it('orders vm-999 before vm-1000 and continues after a cursor whose VM has left', async () => {
    const { app, fleet } = setup({}, 0);
    fleet.addVm('vm-1000');
    fleet.addVm('vm-999');
    fleet.addVm('vm-2');
    const all = (await (await app.request('/fleet')).json()) as FleetResponse;
    expect(all.vms.map((vm) => vm.id)).toEqual(['vm-2', 'vm-999', 'vm-1000']);
    expect(all.next).toBeNull();
    const rest = (await (await app.request('/fleet?after=vm-500')).json()) as FleetResponse;
    expect(rest.vms.map((vm) => vm.id)).toEqual(['vm-999', 'vm-1000']);
  });

  it('refuses a bad limit or cursor, naming the parameter', async () => {
    const { app } = setup();
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=1001', 'limit'],
      ['limit=1e3', 'limit'],
      ['after=%20x', 'after'],
      ['page=2', ''],
    ] as const) {
      const res = await app.request(`/fleet?${query}`);
      expect(res.status, query).toBe(400);
      const body = (await res.json()) as { issues: { field: string }[] };
      expect(
        body.issues.map((i) => i.field),
        query,
      ).toContain(field);
    }
  });

  it('sends the dashboard the first 1000 VMs of a larger fleet, with the total', async () => {
    const { rt } = setup({}, 1005);
    const snapshot: SnapshotEvent = await rt.snapshot();
    expect(snapshot.fleet.vms).toHaveLength(1000);
    expect(snapshot.fleet.total).toBe(1005);
    expect(snapshot.fleet.next).toBe('vm-1000');
  });
});

describe('a quarantined VM', () => {
  it('is reported by GET /fleet with the reason, skipped by placement, and logged once', async () => {
    const { app, rt, fleet, logged } = setup({ scheduler_thread: false }, 2);
    // Bypasses the API (which refuses it): a record the engine cannot accept, however it got there.
    fleet.addVm('vm-bad', { cpu: 1000, mem: 1000, io: 1e-9, bw: 100 });
    const view = (await (await app.request('/fleet')).json()) as FleetResponse;
    expect(view.quarantined).toBe(1);
    expect(view.vms.find((vm) => vm.id === 'vm-bad')!.quarantine).toBe(
      'capacity.io: must be 0 or at least 0.000001',
    );
    expect(view.vms.filter((vm) => vm.quarantine !== undefined)).toHaveLength(1);

    await rt.start();
    const ids = Array.from({ length: 6 }, (_, i) => `q-${i}`);
    const res = await app.request(
      '/tasks',
      post(ids.map((id) => ({ id, cpu: 1, deadline: 4_000_000_000, duration: 60 }))),
    );
    expect(res.status).toBe(202);
    await eventually(async () => {
      const states = await Promise.all(ids.map((id) => rt.taskStatus(id)));
      return states.every((s) => s?.status === 'assigned');
    });
    const placed = await Promise.all(ids.map((id) => rt.taskStatus(id)));
    expect(placed.map((s) => s!.vm_id)).not.toContain('vm-bad');
    expect(logged.filter((line) => line.startsWith('quarantined vm-bad: capacity.io'))).toHaveLength(1);
    close = () => rt.stop();
  });
});

describe('the queue and its dead letters', () => {
  it('serves the dead-letter table and counts it in GET /queue and the dashboard snapshot', async () => {
    const { app, rt, queue, store } = setup();
    store.db
      .prepare('INSERT INTO queue (task_id, task, visible_at) VALUES (?, ?, ?)')
      .run('damaged', '{"id":"damaged"}', 0);
    await queue.receive(10);
    const summary = (await (await app.request('/queue')).json()) as QueueResponse;
    expect(summary).toEqual({ depth: 0, dead_letters: 1 });
    const res = await app.request('/queue/dead-letters?limit=5');
    expect(res.status).toBe(200);
    const body = (await res.json()) as DeadLettersResponse;
    expect(body.total).toBe(1);
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({ task_id: 'damaged', task: '{"id":"damaged"}', attempts: 0 });
    expect(body.items[0]!.error).toMatch(/requirements/);
    expect(Number.isNaN(Date.parse(body.items[0]!.failed_at))).toBe(false);
    expect((await rt.snapshot()).dead_letters).toBe(1);
    const bad = await app.request('/queue/dead-letters?limit=0');
    expect(bad.status).toBe(400);
  });
});

describe('a cap on live event streams', () => {
  it('answers 503 naming max_event_clients beyond it, and admits again once a stream closes', async () => {
    const { app } = setup({ max_event_clients: 1 });
    const first = await app.request('/events');
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read(); // the snapshot: the stream is open and counted
    const second = await app.request('/events');
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(await second.json()).toMatchObject({
      error: 'LimitExceededError',
      limit: { name: 'max_event_clients', value: 1 },
    });
    await reader.cancel();
    await eventually(async () => {
      const again = await app.request('/events');
      if (again.status !== 200) return false;
      await again.body!.cancel();
      return true;
    });
  });
});
