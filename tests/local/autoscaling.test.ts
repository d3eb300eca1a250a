import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonl } from '../../lib/ledger/jsonl';
import type { Block } from '../../lib/ledger/types';
import { eventually, postJson, type RunningServer, startServer, task } from './helpers/server';

/**
 * The real runtime (`bcs start`, scheduler thread, SQLite) with autoscaling on: a burst larger than
 * the starting fleet holds grows the fleet, the end of the burst shrinks it back to min, and the
 * ledger stays valid and complete throughout.
 */

const MIN = 2;
const MAX = 6;
// Each task takes a quarter of a VM's CPU (default capacity 4000), so a VM runs 4 at a time.
const CPU = 1000;
// 30 simulated seconds at speed 30: one second of wall time per task.
const SPEED = 30;
const DURATION_S = 30;
const WAVES = 6;
const PER_WAVE = 16;

let server: RunningServer;

beforeAll(async () => {
  server = await startServer({
    // The bcs start flags switch it on and set the bounds; the file sets what has no flag.
    args: [
      '--autoscale',
      '--autoscale-min',
      String(MIN),
      '--autoscale-max',
      String(MAX),
      '--autoscale-target',
      '2',
    ],
    config: {
      seed: 11,
      fleet: { size: MIN, speed: SPEED, tick_ms: 50 },
      autoscale: {
        max_step: 2,
        tick_ms: 100,
        scale_out_window_s: 0.2,
        scale_out_cooldown_s: 0.3,
        scale_in_window_s: 0.5,
        scale_in_cooldown_s: 0.2,
      },
    },
  });
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

interface FleetVm {
  id: string;
  state: string;
  capacity: Record<string, number>;
  reserved: Record<string, number>;
  active_tasks: number;
}

const get = async <T>(path: string): Promise<T> => {
  const response = await fetch(`${server.url}${path}`);
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
};
const fleet = async () => (await get<{ vms: FleetVm[] }>('/fleet')).vms;
const verify = async () => {
  const response = await fetch(`${server.url}/ledger/verify`, { method: 'POST' });
  return (await response.json()) as { valid: boolean; problem: string | null };
};

/** Every VM's reservation (the ledger's, merged into GET /fleet) within its capacity. */
function overCapacity(vms: FleetVm[]): string[] {
  const over: string[] = [];
  for (const vm of vms) {
    for (const [d, reserved] of Object.entries(vm.reserved)) {
      if (reserved > (vm.capacity[d] ?? 0) + 1e-6) over.push(`${vm.id}.${d}=${reserved}`);
    }
  }
  return over;
}

/** The first `snapshot` event of GET /events: carries the metrics snapshot with autoscale status. */
async function metricsSnapshot(): Promise<{ autoscale?: Record<string, unknown> }> {
  const controller = new AbortController();
  const response = await fetch(`${server.url}/events`, { signal: controller.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before a snapshot: ${text}`);
      text += value;
      const match = /event: snapshot\ndata: (.*)\n/.exec(text);
      if (match)
        return (JSON.parse(match[1]!) as { metrics: { autoscale?: Record<string, unknown> } }).metrics;
    }
  } finally {
    controller.abort();
  }
}

describe('autoscaling the local fleet', () => {
  it('grows under a burst, shrinks back to min after it, and records every task once', async () => {
    const config = await get<{ autoscale?: Record<string, unknown> }>('/config');
    expect(config.autoscale).toMatchObject({
      enabled: true,
      min: MIN,
      max: MAX,
      target_backlog_per_vm: 2,
      max_step: 2,
    });
    expect((await fleet()).length).toBe(MIN);

    const accepted: string[] = [];
    const sizes: number[] = [];
    const overs: string[] = [];
    const verifications: boolean[] = [];
    const observe = async () => {
      const vms = await fleet();
      sizes.push(vms.length);
      overs.push(...overCapacity(vms));
    };

    // The burst: 96 tasks over ~1.5 s, 24 task-slots per second at most, against 8 slots at start.
    const deadline = Math.floor(Date.now() / 1000) + 3600;
    for (let wave = 0; wave < WAVES; wave++) {
      const tasks = Array.from({ length: PER_WAVE }, (_, i) =>
        task(`as-${wave}-${i}`, { cpu: CPU, mem: 256, duration: DURATION_S, deadline }),
      );
      const response = await postJson(`${server.url}/tasks`, tasks);
      expect(response.status).toBe(202);
      accepted.push(...((await response.json()) as { accepted: string[] }).accepted);
      await observe();
      if (wave % 2 === 1) verifications.push((await verify()).valid);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(accepted).toHaveLength(WAVES * PER_WAVE);

    // The fleet grows beyond its starting size while the backlog lasts.
    await eventually(
      async () => {
        await observe();
        return Math.max(...sizes) > MIN ? true : undefined;
      },
      'a scale-out',
      100,
      100,
    );

    // Every task ends completed; then the idle fleet goes back to min.
    const completed = async () => {
      const blocks: Block[] = [];
      const text = await (await fetch(`${server.url}/ledger/export`)).text();
      for await (const block of parseJsonl(text.split('\n').filter((l) => l !== ''))) blocks.push(block);
      return blocks;
    };
    let checks = 0;
    const blocks = await eventually(
      async () => {
        await observe();
        if (++checks % 10 === 0) verifications.push((await verify()).valid);
        const chain = await completed();
        const done = chain.flatMap((b) => b.transactions).filter((t) => t.status === 'completed').length;
        return done >= accepted.length ? chain : undefined;
      },
      'every task completed',
      150,
      100,
    );
    await eventually(
      async () => {
        const vms = await fleet();
        sizes.push(vms.length);
        return vms.length === MIN ? vms : undefined;
      },
      'the fleet back at min',
      100,
      100,
    );
    verifications.push((await verify()).valid);

    expect(Math.max(...sizes)).toBeGreaterThan(MIN);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX);
    expect(overs).toEqual([]);
    expect(verifications.length).toBeGreaterThanOrEqual(4);
    expect(verifications.every(Boolean)).toBe(true);

    // Each accepted task: assigned exactly once, then completed exactly once; nothing else.
    const byTask = new Map<string, string[]>();
    for (const tx of blocks.flatMap((b) => b.transactions)) {
      byTask.set(tx.task_id, [...(byTask.get(tx.task_id) ?? []), tx.status]);
    }
    expect([...byTask.keys()].sort()).toEqual([...accepted].sort());
    for (const [id, statuses] of byTask) expect(statuses, id).toEqual(['assigned', 'completed']);

    const view = await get<{ settings: Record<string, unknown>; status: Record<string, unknown> | null }>(
      '/fleet/autoscaling',
    );
    expect(view.settings).toEqual(config.autoscale);
    expect(view.status).toMatchObject({ fleet_size: MIN, active_vms: MIN, backlog: 0 });

    const metrics = await metricsSnapshot();
    expect(metrics.autoscale).toMatchObject({ enabled: true, fleet_size: MIN, active_vms: MIN });
    expect(metrics.autoscale!.scale_outs as number).toBeGreaterThan(0);
    expect(metrics.autoscale!.scale_ins as number).toBeGreaterThan(0);
    expect(metrics.autoscale!.retired as number).toBeGreaterThanOrEqual(Math.max(...sizes) - MIN);
    expect(server.stderr()).toMatch(/autoscale: scale-out vm-003/);
  }, 30_000);
});
