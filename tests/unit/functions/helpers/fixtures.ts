import { MemoryLedgerStore } from '../../../../lib/adapters/memory/memory-ledger-store';
import { SchedulingEngine, type SchedulingEngineOptions } from '../../../../lib/engine/engine';
import type { Block } from '../../../../lib/ledger/types';
import type { ResourceVector } from '../../../../lib/model/resources';
import type { Task } from '../../../../lib/model/task';
import type { Vm } from '../../../../lib/model/vm';
import { ManualClock } from '../../../../lib/ports/clock';
import type { FleetSource } from '../../../../lib/ports/fleet-source';
import type { LedgerStore } from '../../../../lib/ports/ledger-store';
import type { LogSink, MetricSink } from '../../../../lib/ports/observability';
import { toQueueMessage } from '../../../../lib/schemas/queue-message';

export const DIMENSIONS = ['cpu', 'mem', 'io', 'bw'] as const;
export const T0 = Date.UTC(2026, 10, 21, 6, 0, 0);

const zero = (): ResourceVector => ({ cpu: 0, mem: 0, io: 0, bw: 0 });

export function vm(id: string, capacity: ResourceVector): Vm {
  return {
    id,
    capacity: { ...zero(), ...capacity },
    reserved: zero(),
    usage: zero(),
    history: [],
    activeTasks: 0,
    labels: {},
    state: 'active',
  };
}

export function task(id: string, requirements: ResourceVector, overrides: Partial<Task> = {}): Task {
  return {
    id,
    requirements: { ...zero(), ...requirements },
    duration: 120,
    deadline: T0 / 1000 + 3600,
    priority: 0,
    submittedAt: T0,
    labels: {},
    constraints: {},
    ...overrides,
  };
}

/** The SQS body the enqueue function writes for `t`. */
export const messageFor = (t: Task) => toQueueMessage(t);

export class StaticFleet implements FleetSource {
  constructor(public vms: Vm[]) {}
  async listVms(): Promise<Vm[]> {
    return structuredClone(this.vms);
  }
}

export function ledger(vms: Vm[], options: Partial<SchedulingEngineOptions> = {}) {
  const store = new MemoryLedgerStore();
  const clock = new ManualClock(T0);
  const engine = new SchedulingEngine({
    store,
    fleet: new StaticFleet(vms),
    clock,
    algorithm: 'best-fit',
    dimensions: DIMENSIONS,
    sleep: async () => {},
    ...options,
  });
  return { store, clock, engine };
}

export async function allBlocks(store: LedgerStore): Promise<Block[]> {
  const head = await store.readHead();
  return store.getBlocks(0, head.height + 1);
}

/** Ids of the tasks each transaction in the chain is about, in chain order. */
export async function taskIdsInChain(store: LedgerStore): Promise<string[]> {
  return (await allBlocks(store)).flatMap((b) => b.transactions.map((t) => t.task_id));
}

type Entry = { level: 'info' | 'warn' | 'error'; message: string; extra: Record<string, unknown>[] };

export class RecordingLogger implements LogSink {
  readonly entries: Entry[] = [];
  info(message: string, ...extra: Record<string, unknown>[]): void {
    this.entries.push({ level: 'info', message, extra });
  }
  warn(message: string, ...extra: Record<string, unknown>[]): void {
    this.entries.push({ level: 'warn', message, extra });
  }
  error(message: string, ...extra: Record<string, unknown>[]): void {
    this.entries.push({ level: 'error', message, extra });
  }
  at(level: Entry['level']): Entry[] {
    return this.entries.filter((e) => e.level === level);
  }
}

export class RecordingMetrics implements MetricSink {
  readonly pending: { name: string; value: number }[] = [];
  readonly published: { name: string; value: number }[][] = [];
  addMetric(name: string, _unit: string, value: number): void {
    this.pending.push({ name, value });
  }
  publishStoredMetrics(): void {
    this.published.push(this.pending.splice(0));
  }
  /** Values of `name` in the last published set. */
  last(name: string): number[] {
    return (this.published.at(-1) ?? []).filter((m) => m.name === name).map((m) => m.value);
  }
}
