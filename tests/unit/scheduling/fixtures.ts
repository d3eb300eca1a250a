import type { ResourceVector } from '../../../lib/model/resources';
import type { Task } from '../../../lib/model/task';
import type { Vm, VmLabels, VmState } from '../../../lib/model/vm';

/** Epoch ms used as "now" throughout; deadlines are epoch seconds relative to it. */
export const NOW = 1_762_300_000_000;
export const NOW_S = NOW / 1000;
export const DIMS = ['cpu', 'mem', 'io', 'bw'] as const;

/** A VM with every dimension present: given amounts, 0 elsewhere. */
export function vm(
  id: string,
  options: {
    capacity?: Partial<ResourceVector>;
    reserved?: Partial<ResourceVector>;
    usage?: Partial<ResourceVector>;
    history?: Partial<ResourceVector>[];
    activeTasks?: number;
    labels?: VmLabels;
    state?: VmState;
  } = {},
  dims: readonly string[] = DIMS,
): Vm {
  return {
    id,
    capacity: full(dims, options.capacity ?? { cpu: 4000, mem: 8192, io: 500, bw: 1000 }),
    reserved: full(dims, options.reserved ?? {}),
    usage: full(dims, options.usage ?? {}),
    history: (options.history ?? []).map((h) => full(dims, h)),
    activeTasks: options.activeTasks ?? 0,
    labels: options.labels ?? {},
    state: options.state ?? 'active',
  };
}

export function task(
  id: string,
  requirements: Partial<ResourceVector>,
  options: Partial<Omit<Task, 'id' | 'requirements'>> = {},
  dims: readonly string[] = DIMS,
): Task {
  return {
    id,
    requirements: full(dims, requirements),
    duration: options.duration ?? 60,
    deadline: options.deadline ?? NOW_S + 3600,
    priority: options.priority ?? 0,
    submittedAt: options.submittedAt ?? NOW,
    labels: options.labels ?? {},
    constraints: options.constraints ?? {},
  };
}

function full(dims: readonly string[], values: Partial<ResourceVector>): ResourceVector {
  const v: ResourceVector = {};
  for (const d of dims) v[d] = values[d] ?? 0;
  return v;
}

/** VM "a" of the worked example in docs/algorithms.md (DW/UF hand calculation), on cpu and mem. */
export function workedExampleVm(): Vm {
  return vm(
    'a',
    {
      capacity: { cpu: 4000, mem: 8000 },
      usage: { cpu: 1000, mem: 1000 },
      reserved: { cpu: 400, mem: 800 },
      history: [
        { cpu: 600, mem: 400 },
        { cpu: 1000, mem: 1200 },
      ],
    },
    ['cpu', 'mem'],
  );
}
