import { z } from 'zod';
import type { ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm } from '../model/vm';
import { parseCsv } from './csv';
import { type Arrival, SIMULATION_EPOCH_MS, type Workload } from './types';

/**
 * The Alibaba OpenB trace (cluster-trace-gpu-v2023; Weng et al., USENIX ATC'23) as a Workload.
 * GPUs become a `gpu` dimension in milli-GPU: a node with `gpu` = 8 offers 8000, a pod asks for
 * num_gpu x gpu_milli (a 0.46-GPU sharing pod asks for 460). Summing GPUs per node ignores that a
 * sharing pod must fit inside ONE physical GPU, so this model is optimistic about GPU fragmentation.
 */

export const OPENB_DIMENSIONS = ['cpu', 'mem', 'gpu'] as const;
/** VM label holding the node's GPU model; pods with a gpu_spec are constrained on it. */
export const GPU_MODEL_LABEL = 'gpuModel';
/** Deadline given to trace tasks, which have none: far enough never to bind. */
const NO_DEADLINE_SECONDS = 10 * 365 * 86_400;

const count = z
  .string()
  .regex(/^\d+$/, 'must be a non-negative integer')
  .transform(Number)
  .refine(Number.isSafeInteger, 'is too large');
const optionalCount = z.union([z.literal('').transform(() => null), count]);
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/, 'must be a plain identifier');
const gpuModel = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be a plain GPU model name');

export const openbNodeSchema = z.object({
  sn: name,
  cpu_milli: count,
  memory_mib: count,
  gpu: count,
  model: z.union([z.literal(''), gpuModel]),
});

export const openbPodSchema = z
  .object({
    name,
    cpu_milli: count,
    memory_mib: count,
    num_gpu: count.refine((n) => n <= 64, 'must be at most 64'),
    gpu_milli: count.refine((n) => n <= 1000, 'must be at most 1000 (one whole GPU)'),
    gpu_spec: z.union([
      z.literal(''),
      z.string().regex(/^[A-Za-z0-9._-]+(\|[A-Za-z0-9._-]+)*$/, 'must be GPU models separated by |'),
    ]),
    creation_time: count,
    deletion_time: optionalCount,
    scheduled_time: optionalCount,
  })
  .refine((p) => p.deletion_time === null || p.deletion_time >= p.creation_time, {
    path: ['deletion_time'],
    message: 'must not be before creation_time',
  });

export type OpenbNode = z.output<typeof openbNodeSchema>;
export type OpenbPod = z.output<typeof openbPodSchema>;

export function parseOpenbNodes(text: string, source = 'nodes'): OpenbNode[] {
  return parseCsv(text, openbNodeSchema, { source, columns: Object.keys(openbNodeSchema.shape) });
}

export function parseOpenbPods(text: string, source = 'pods'): OpenbPod[] {
  const columns = [
    'name',
    'cpu_milli',
    'memory_mib',
    'num_gpu',
    'gpu_milli',
    'gpu_spec',
    'creation_time',
    'deletion_time',
    'scheduled_time',
  ];
  return parseCsv(text, openbPodSchema, { source, columns });
}

export function openbVm(node: OpenbNode): Vm {
  const zero = { cpu: 0, mem: 0, gpu: 0 };
  return {
    id: node.sn,
    capacity: { cpu: node.cpu_milli, mem: node.memory_mib, gpu: node.gpu * 1000 },
    reserved: { ...zero },
    usage: { ...zero },
    history: [],
    activeTasks: 0,
    labels: node.model === '' ? { pool: 'openb' } : { pool: 'openb', [GPU_MODEL_LABEL]: node.model },
    state: 'active',
  };
}

export function openbRequirements(pod: OpenbPod): ResourceVector {
  return { cpu: pod.cpu_milli, mem: pod.memory_mib, gpu: pod.num_gpu * pod.gpu_milli };
}

/**
 * The allowed GPU models of a pod, or null when any model (or none) will do. Task constraints are
 * conjunctions of exact label matches, so a single-model spec becomes a constraint; a spec naming
 * several models (a disjunction) cannot be expressed and is kept as a label only, not enforced.
 * The published default pod list has no gpu_spec at all.
 */
export function openbGpuModels(pod: OpenbPod): string[] | null {
  return pod.gpu_spec === '' ? null : pod.gpu_spec.split('|');
}

export type OpenbMode = 'live' | 'saturate';

export interface OpenbOptions {
  mode: OpenbMode;
  /**
   * saturate: keep submitting (cycling through the trace again when it runs out) until the demand
   * submitted in `saturationDimension` reaches this multiple of the fleet's capacity. Default 1.
   */
  saturateAt?: number;
}

/** The dimension the trace's paper measures saturation in: GPU when the fleet has GPUs. */
export function saturationDimension(vms: readonly Vm[]): string {
  return vms.some((vm) => (vm.capacity.gpu ?? 0) > 0) ? 'gpu' : 'cpu';
}

function podTask(pod: OpenbPod, at: number, id: string, durationSeconds: number): Task {
  const models = openbGpuModels(pod);
  return {
    id,
    requirements: openbRequirements(pod),
    duration: durationSeconds,
    deadline: Math.ceil(at / 1000) + NO_DEADLINE_SECONDS,
    priority: 0,
    submittedAt: at,
    labels: models === null ? {} : { gpuSpec: pod.gpu_spec },
    constraints: models?.length === 1 ? { [GPU_MODEL_LABEL]: models[0]! } : {},
  };
}

/**
 * Builds the workload. live: every pod arrives at creation_time and runs until deletion_time
 * (a pod still running at the end of the trace runs to the trace's last timestamp). saturate: pods
 * arrive in creation order and never leave, as in the paper's saturation experiments.
 */
export function openbWorkload(nodes: OpenbNode[], pods: OpenbPod[], options: OpenbOptions): Workload {
  if (nodes.length === 0) throw new RangeError('the node list is empty');
  if (pods.length === 0) throw new RangeError('the pod list is empty');
  const vms = nodes.map(openbVm);
  const ordered = pods
    .map((pod, index) => ({ pod, index }))
    .sort((a, b) => a.pod.creation_time - b.pod.creation_time || a.index - b.index)
    .map((p) => p.pod);
  const arrivals: Arrival[] = [];

  if (options.mode === 'live') {
    const end = Math.max(...ordered.map((p) => p.deletion_time ?? p.creation_time));
    for (const pod of ordered) {
      const at = SIMULATION_EPOCH_MS + pod.creation_time * 1000;
      // A zero-length pod still occupies its node for an instant; one second keeps it visible.
      const duration = Math.max((pod.deletion_time ?? end) - pod.creation_time, 1);
      arrivals.push({ at, task: podTask(pod, at, pod.name, duration) });
    }
  } else {
    const saturateAt = options.saturateAt ?? 1;
    if (!(saturateAt > 0 && saturateAt <= 10))
      throw new RangeError(`saturateAt must be in (0, 10], got ${saturateAt}`);
    const dimension = saturationDimension(vms);
    const capacity = vms.reduce((sum, vm) => sum + (vm.capacity[dimension] ?? 0), 0);
    const demandPerCycle = ordered.reduce((sum, pod) => sum + (openbRequirements(pod)[dimension] ?? 0), 0);
    if (demandPerCycle === 0)
      throw new RangeError(`no pod asks for any ${dimension}: the fleet cannot saturate`);
    const span = ordered[ordered.length - 1]!.creation_time + 1;
    let submitted = 0;
    for (let cycle = 0; submitted < saturateAt * capacity; cycle++) {
      for (const pod of ordered) {
        if (submitted >= saturateAt * capacity) break;
        const at = SIMULATION_EPOCH_MS + (cycle * span + pod.creation_time) * 1000;
        const id = cycle === 0 ? pod.name : `${pod.name}~${cycle}`;
        arrivals.push({ at, task: podTask(pod, at, id, NO_DEADLINE_SECONDS) });
        submitted += openbRequirements(pod)[dimension] ?? 0;
      }
    }
  }

  return {
    name: `OpenB ${options.mode}: ${vms.length} nodes, ${arrivals.length} pods`,
    dimensions: OPENB_DIMENSIONS,
    vms,
    arrivals,
    hasDeadlines: false,
  };
}
