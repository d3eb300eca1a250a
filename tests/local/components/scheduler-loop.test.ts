import { describe, expect, it } from 'vitest';
import type { Engine, ScheduleOutcome } from '../../../lib/engine/types';
import type { Task } from '../../../lib/model/task';
import type { QueuedTask, TaskQueue } from '../../../lib/ports/task-queue';
import type { Decision } from '../../../lib/scheduling/types';
import { SchedulerLoop } from '../../../runtime/scheduler-loop';
import { createSerial } from '../../../runtime/serial';

const task = (id: string): Task => ({
  id,
  requirements: { cpu: 1 },
  duration: 1,
  deadline: 1e10,
  priority: 0,
  submittedAt: 0,
  labels: {},
  constraints: {},
});

/** A queue that records what was acked and released. */
class RecordingQueue implements TaskQueue {
  acked: string[] = [];
  released: string[] = [];
  constructor(private pending: string[]) {}
  async enqueue(): Promise<string[]> {
    return [];
  }
  async receive(max: number): Promise<QueuedTask[]> {
    const ids = this.pending.splice(0, max);
    return ids.map((id) => ({ task: task(id), receipt: `r-${id}`, attempts: 1 }));
  }
  async ack(receipts: string[]): Promise<void> {
    this.acked.push(...receipts);
  }
  async release(receipts: string[]): Promise<void> {
    this.released.push(...receipts);
  }
  async depth(): Promise<number> {
    return this.pending.length;
  }
}

function engine(schedule: (tasks: Task[]) => Promise<ScheduleOutcome>): Engine {
  return {
    schedule,
    complete: async () => ({ status: 'unknown' }),
    expireLeases: async () => [],
    setAlgorithm: () => undefined,
  };
}

const decision = (t: Task): Decision => ({
  task: t,
  status: 'rejected',
  vmId: null,
  score: null,
  reason: 'no VM',
  before: null,
  after: null,
});

describe('SchedulerLoop.step', () => {
  it('acks decided and duplicate tasks after the commit and releases any the engine left out', async () => {
    const queue = new RecordingQueue(['a', 'b', 'c', 'd']);
    const batches: string[][] = [];
    const outcomes: ScheduleOutcome[] = [];
    const loop = new SchedulerLoop({
      queue,
      engine: engine(async (tasks) => {
        batches.push(tasks.map((t) => t.id));
        return {
          decisions: [decision(tasks[0]!), decision(tasks[1]!)],
          duplicates: [tasks[2]!.id],
          blocks: [],
          head: { height: 0, hash: '' },
          attempts: 1,
        };
      }),
      serial: createSerial(),
      batchSize: 10,
      onOutcome: (o) => outcomes.push(o),
      onError: () => undefined,
    });
    expect(await loop.step()).toBe(4);
    expect(batches).toEqual([['a', 'b', 'c', 'd']]);
    expect(queue.acked).toEqual(['r-a', 'r-b', 'r-c']);
    expect(queue.released).toEqual(['r-d']);
    expect(outcomes).toHaveLength(1);
    expect(await loop.step()).toBe(0);
  });

  it('takes at most batchSize tasks per call', async () => {
    const queue = new RecordingQueue(['a', 'b', 'c']);
    const loop = new SchedulerLoop({
      queue,
      engine: engine(async (tasks) => ({
        decisions: tasks.map(decision),
        duplicates: [],
        blocks: [],
        head: { height: 0, hash: '' },
        attempts: 1,
      })),
      serial: createSerial(),
      batchSize: 2,
      onOutcome: () => undefined,
      onError: () => undefined,
    });
    expect(await loop.step()).toBe(2);
    expect(await loop.step()).toBe(1);
    expect(queue.acked).toEqual(['r-a', 'r-b', 'r-c']);
  });

  it('releases the whole batch and acks nothing when the engine fails', async () => {
    const queue = new RecordingQueue(['a', 'b']);
    const loop = new SchedulerLoop({
      queue,
      engine: engine(async () => {
        throw new Error('store down');
      }),
      serial: createSerial(),
      batchSize: 10,
      onOutcome: () => undefined,
      onError: () => undefined,
    });
    await expect(loop.step()).rejects.toThrow('store down');
    expect(queue.acked).toEqual([]);
    expect(queue.released).toEqual(['r-a', 'r-b']);
  });
});
