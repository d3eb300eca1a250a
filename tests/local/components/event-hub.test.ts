import { describe, expect, it } from 'vitest';
import type { DecisionEventItem } from '../../../lib/schemas/http';
import { EventHub } from '../../../runtime/events/hub';

const item = (n: number): DecisionEventItem => ({
  task_id: `t-${n}`,
  vm_id: 'vm-001',
  status: 'assigned',
  score: 1,
  reason: 'r',
  algorithm: 'best-fit',
  transaction_id: `x-${n}`,
  height: n,
  at: '2026-11-21T00:00:00.000Z',
});

describe('EventHub', () => {
  it('buffers decisions and blocks until flush, keeping the newest within the caps', () => {
    const hub = new EventHub({ maxDecisionsPerFlush: 3, maxBlocksPerFlush: 2 });
    const seen: [string, unknown][] = [];
    hub.subscribe((event, data) => seen.push([event, JSON.parse(data)]));
    hub.addDecisions([item(1), item(2)]);
    hub.addDecisions([item(3), item(4)]);
    for (let h = 1; h <= 3; h++)
      hub.addBlock({ height: h, hash: `h${h}`, transaction_count: 1, timestamp: 'now' });
    expect(seen).toEqual([]);
    hub.flush();
    expect(seen.map(([e]) => e)).toEqual(['decisions', 'block', 'block']);
    expect((seen[0]![1] as { items: DecisionEventItem[] }).items.map((i) => i.task_id)).toEqual([
      't-2',
      't-3',
      't-4',
    ]);
    expect(seen.slice(1).map(([, b]) => (b as { height: number }).height)).toEqual([2, 3]);
    hub.flush();
    expect(seen).toHaveLength(3);
  });

  it('publishes immediate events to every subscriber and stops after unsubscribe', () => {
    const hub = new EventHub();
    const a: string[] = [];
    const b: string[] = [];
    const unsubscribeA = hub.subscribe((event) => a.push(event));
    hub.subscribe((event) => b.push(event));
    hub.publish('metrics', {
      at: 'now',
      algorithm: 'x',
      queue_depth: 0,
      throughput_per_s: 0,
      by_algorithm: {},
    });
    unsubscribeA();
    hub.publish('fleet', { at: 'now', vms: [] });
    expect(a).toEqual(['metrics']);
    expect(b).toEqual(['metrics', 'fleet']);
    expect(hub.subscriberCount).toBe(1);
  });

  it('keeps nothing while nobody listens', () => {
    const hub = new EventHub();
    hub.addDecisions([item(1)]);
    const seen: string[] = [];
    hub.subscribe((event) => seen.push(event));
    hub.flush();
    expect(seen).toEqual([]);
  });
});
