import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../lib/simulation/rng';
import { SimulatedFleet } from '../../../runtime/fleet/simulated-fleet';

const dimensions = ['cpu', 'mem'];
const fleet = (noise = 0, speed = 1) =>
  new SimulatedFleet({
    dimensions,
    defaultCapacity: { cpu: 1000, mem: 2000 },
    zones: ['a', 'b'],
    speed,
    noise,
    historyWindow: 3,
    random: seededRandom(1),
  });

describe('SimulatedFleet', () => {
  it('names VMs in order, spreads zones and takes per-VM capacity', async () => {
    const f = fleet();
    expect(f.addVms(2)).toEqual(['vm-001', 'vm-002']);
    expect(f.addVms(1, { cpu: 5000 }, { pool: 'big' })).toEqual(['vm-003']);
    const vms = await f.listVms();
    expect(vms.map((v) => v.labels.zone)).toEqual(['a', 'b', 'a']);
    expect(vms[2]).toMatchObject({
      capacity: { cpu: 5000, mem: 2000 },
      labels: { pool: 'big' },
      state: 'active',
    });
  });

  it('reserves what running tasks require and measures exactly that without noise', () => {
    const f = fleet();
    f.addVms(1);
    f.start('t1', 'vm-001', { cpu: 100, mem: 300 }, 60, 0);
    f.start('t2', 'vm-001', { cpu: 50, mem: 10 }, 60, 0);
    f.tick(1);
    const [vm] = f.snapshot();
    expect(vm).toMatchObject({
      reserved: { cpu: 150, mem: 310 },
      usage: { cpu: 150, mem: 310 },
      activeTasks: 2,
    });
    f.stop('t1');
    f.tick(2);
    expect(f.snapshot()[0]).toMatchObject({ reserved: { cpu: 50, mem: 10 }, usage: { cpu: 50, mem: 10 } });
  });

  it('keeps noisy usage within 0..capacity and the history within its window', () => {
    const f = fleet(1);
    f.addVms(1);
    f.start('t1', 'vm-001', { cpu: 900, mem: 1900 }, 600, 0);
    for (let t = 1; t <= 50; t++) {
      f.tick(t);
      const [vm] = f.snapshot();
      expect(vm!.usage.cpu).toBeGreaterThanOrEqual(0);
      expect(vm!.usage.cpu).toBeLessThanOrEqual(1000);
      expect(vm!.history.length).toBeLessThanOrEqual(3);
    }
    const [vm] = f.snapshot();
    // The oldest sample drops out: the window holds the three samples before the latest.
    expect(vm!.history).toHaveLength(3);
  });

  it('reports a task finished once its duration has passed at the simulation speed, exactly once', () => {
    const f = fleet(0, 10);
    f.addVms(1);
    f.start('t1', 'vm-001', { cpu: 1 }, 30, 1000); // 30 s at speed 10 = 3000 ms
    expect(f.tick(3999)).toEqual([]);
    expect(f.tick(4000)).toEqual(['t1']);
    expect(f.tick(5000)).toEqual([]);
    expect(f.snapshot()[0]!.activeTasks).toBe(1);
  });

  it('does not report a task that stopped before its end', () => {
    const f = fleet();
    f.addVms(1);
    f.start('t1', 'vm-001', { cpu: 1 }, 1, 0);
    f.stop('t1');
    expect(f.tick(10_000)).toEqual([]);
  });

  it('keeps a drained VM until its last task stops, then retires it', () => {
    const f = fleet();
    f.addVms(2);
    f.start('t1', 'vm-001', { cpu: 1 }, 60, 0);
    expect(f.drain('vm-001')).toBe(true);
    expect(f.drain('vm-404')).toBe(false);
    f.tick(1);
    expect(f.snapshot().map((v) => [v.id, v.state])).toEqual([
      ['vm-001', 'draining'],
      ['vm-002', 'active'],
    ]);
    f.stop('t1');
    f.tick(2);
    expect(f.snapshot().map((v) => v.id)).toEqual(['vm-002']);
  });

  it('ignores tasks for unknown VMs and a second start of the same task', () => {
    const f = fleet();
    f.addVms(1);
    f.start('t1', 'vm-009', { cpu: 1 }, 60, 0);
    f.start('t2', 'vm-001', { cpu: 5 }, 60, 0);
    f.start('t2', 'vm-001', { cpu: 5 }, 60, 0);
    expect(f.snapshot()[0]).toMatchObject({ reserved: { cpu: 5 }, activeTasks: 1 });
  });
});
