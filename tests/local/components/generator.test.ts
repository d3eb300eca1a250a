import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lib/errors';
import type { Task } from '../../../lib/model/task';
import { ManualClock } from '../../../lib/ports/clock';
import { queuedTaskSchema } from '../../../lib/schemas/queue-message';
import { seededRandom } from '../../../lib/simulation/rng';
import { TaskGenerator } from '../../../runtime/generator';

function generator(clock: ManualClock) {
  const submitted: Task[] = [];
  const g = new TaskGenerator({
    dimensions: ['cpu', 'mem', 'io', 'bw'],
    referenceCapacity: { cpu: 4000, mem: 16384, io: 500, bw: 1000 },
    clock,
    random: seededRandom(5),
    settings: {
      running: false,
      rate: 10,
      count: null,
      duration_s: [10, 20],
      deadline_slack_s: [30, 60],
      size: 'small',
    },
    runId: 'r1',
    submit: async (tasks) => {
      // A queue that takes at most 50 tasks per call, like a queue running full.
      const taken = tasks.slice(0, 50);
      submitted.push(...taken);
      return taken.length;
    },
  });
  return { g, submitted };
}

describe('TaskGenerator', () => {
  it('submits rate × elapsed tasks, carrying fractions between ticks', async () => {
    const clock = new ManualClock(1_000_000);
    const { g, submitted } = generator(clock);
    g.update({ running: true, rate: 2.5 });
    clock.advance(1000);
    expect(await g.tick()).toBe(2); // 2.5 due, 0.5 carried
    clock.advance(1000);
    expect(await g.tick()).toBe(3); // 3.0 due
    expect(submitted.map((t) => t.id)).toEqual(['gen-r1-1', 'gen-r1-2', 'gen-r1-3', 'gen-r1-4', 'gen-r1-5']);
    expect(g.state.generated).toBe(5);
  });

  it('makes valid tasks sized by class, with deadlines after their duration', async () => {
    const clock = new ManualClock(1_000_000);
    const { g, submitted } = generator(clock);
    g.update({ running: true, rate: 100 });
    clock.advance(1000);
    await g.tick();
    const schema = queuedTaskSchema(['cpu', 'mem', 'io', 'bw']);
    for (const t of submitted) {
      expect(schema.safeParse(t).success).toBe(true);
      // small = 1-5 % of the reference capacity
      expect(t.requirements.cpu).toBeGreaterThanOrEqual(40);
      expect(t.requirements.cpu).toBeLessThanOrEqual(200);
      expect(t.duration).toBeGreaterThanOrEqual(10);
      expect(t.duration).toBeLessThanOrEqual(20);
      expect(t.deadline).toBeGreaterThanOrEqual(1000 + 1 + t.duration + 30 - 1);
    }
  });

  it('stops by itself after `count` tasks', async () => {
    const clock = new ManualClock(0);
    const { g, submitted } = generator(clock);
    g.update({ running: true, rate: 1000, count: 7 });
    clock.advance(1000);
    expect(await g.tick()).toBe(7);
    expect(g.state).toMatchObject({ running: false, generated: 7 });
    clock.advance(1000);
    expect(await g.tick()).toBe(0);
    expect(submitted).toHaveLength(7);
  });

  it('counts tasks the queue refused as dropped, not generated', async () => {
    const clock = new ManualClock(0);
    const { g, submitted } = generator(clock);
    g.update({ running: true, rate: 80 });
    clock.advance(1000);
    expect(await g.tick()).toBe(50);
    expect(g.state).toMatchObject({ generated: 50, dropped: 30 });
    expect(submitted).toHaveLength(50);
  });

  it('makes up for at most one second per tick, so a stall cannot build rate × stall tasks at once', async () => {
    const clock = new ManualClock(0);
    const { g } = generator(clock);
    g.update({ running: true, rate: 40 });
    clock.advance(60_000);
    expect(await g.tick()).toBe(40);
    expect(g.state).toMatchObject({ generated: 40, dropped: 0 });
  });

  it('owes nothing for the time before resetClock', async () => {
    const clock = new ManualClock(0);
    const { g } = generator(clock);
    g.update({ running: true, rate: 10 });
    clock.advance(60_000);
    g.resetClock();
    clock.advance(1000);
    expect(await g.tick()).toBe(10);
  });

  it('does nothing while stopped, and refuses bad settings naming the field without changing anything', async () => {
    const clock = new ManualClock(0);
    const { g } = generator(clock);
    clock.advance(5000);
    expect(await g.tick()).toBe(0);
    const before = g.state;
    let error: unknown;
    try {
      g.update({ rate: 'fast', size: 'huge' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field).sort()).toEqual(['rate', 'size']);
    expect(g.state).toEqual(before);
  });
});
