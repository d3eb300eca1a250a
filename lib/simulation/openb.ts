import * as z from 'zod';
import type { ResourceVector } from '../model/resources';
import type { Task } from '../model/task';
import type { Vm } from '../model/vm';
import { parseCsv } from './csv';
import { type Arrival, SIMULATION_EPOCH_MS, type Workload } from './types';

/**
 * The Alibaba OpenB trace (cluster-trace-gpu-v2023; Weng et al., USENIX ATC'23) as a Workload.
 * GPUs become a `gpu` dimension in milli-GPU (a node with `gpu` = 8 offers 8000, a pod asks for
 * num_gpu x gpu_milli) AND a device list per node (8 devices of 1000 milli of the node's model), so
 * that a sharing pod must fit inside ONE physical GPU and a multi-GPU pod takes whole GPUs, as on
 * the real cluster (lib/scheduling/devices.ts).
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
    // Absent from the published multi-GPU variants, which have only the five resource columns.
    gpu_spec: z
      .union([
        z.literal(''),
        z.string().regex(/^[A-Za-z0-9._-]+(\|[A-Za-z0-9._-]+)*$/, 'must be GPU models separated by |'),
      ])
      .default(''),
    creation_time: count.optional(),
    deletion_time: optionalCount.optional(),
    scheduled_time: optionalCount.optional(),
  })
  .refine(
    (p) => p.deletion_time == null || p.creation_time === undefined || p.deletion_time >= p.creation_time,
    {
      path: ['deletion_time'],
      message: 'must not be before creation_time',
    },
  );

export type OpenbNode = z.output<typeof openbNodeSchema>;
export type OpenbPod = z.output<typeof openbPodSchema>;

export function parseOpenbNodes(text: string, source = 'nodes'): OpenbNode[] {
  return parseCsv(text, openbNodeSchema, { source, columns: Object.keys(openbNodeSchema.shape) });
}

/** The columns every pod list has; gpu_spec, qos and the times are optional (openbPodSchema). */
export const OPENB_POD_COLUMNS = ['name', 'cpu_milli', 'memory_mib', 'num_gpu', 'gpu_milli'] as const;
/** Columns a live replay needs besides the resources. */
export const OPENB_LIVE_COLUMNS = ['creation_time', 'deletion_time'] as const;

/**
 * Parses any published pod list: the default list's eleven columns or the five resource columns of
 * the multi-GPU variants. The time columns come as a pair: creation_time without deletion_time (or
 * the reverse) is a broken file, not a variant.
 */
export function parseOpenbPods(text: string, source = 'pods'): OpenbPod[] {
  const header = (text.split(/\r?\n/, 1)[0] ?? '').split(',').map((c) => c.trim());
  const timed = OPENB_LIVE_COLUMNS.filter((c) => header.includes(c));
  const columns: string[] = [...OPENB_POD_COLUMNS];
  // One of the pair present: require both, so the error names the missing one.
  if (timed.length > 0) columns.push(...OPENB_LIVE_COLUMNS);
  return parseCsv(text, openbPodSchema, { source, columns });
}

/** True when every pod has a creation time, so the list can be replayed live. */
export function hasTimes(pods: readonly OpenbPod[]): boolean {
  return pods.every((p) => p.creation_time !== undefined);
}

/** Model name given to the devices of a node whose `model` is empty although it has GPUs. */
export const UNKNOWN_GPU_MODEL = 'unknown';

export function openbVm(node: OpenbNode): Vm {
  const zero = { cpu: 0, mem: 0, gpu: 0 };
  const model = node.model === '' ? UNKNOWN_GPU_MODEL : node.model;
  return {
    id: node.sn,
    capacity: { cpu: node.cpu_milli, mem: node.memory_mib, gpu: node.gpu * 1000 },
    reserved: { ...zero },
    usage: { ...zero },
    history: [],
    activeTasks: 0,
    labels: node.model === '' ? { pool: 'openb' } : { pool: 'openb', [GPU_MODEL_LABEL]: node.model },
    state: 'active',
    gpus: Array.from({ length: node.gpu }, () => ({ model, milli: 1000 })),
  };
}

export function openbRequirements(pod: OpenbPod): ResourceVector {
  return { cpu: pod.cpu_milli, mem: pod.memory_mib, gpu: pod.num_gpu * pod.gpu_milli };
}

/**
 * The allowed GPU models of a pod, or null when any model (or none) will do. They become the task's
 * gpuModels, checked against the nodes' device lists (any one of the models).
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

export function podTask(pod: OpenbPod, at: number, id: string, durationSeconds: number): Task {
  const models = openbGpuModels(pod);
  return {
    id,
    requirements: openbRequirements(pod),
    duration: durationSeconds,
    deadline: Math.ceil(at / 1000) + NO_DEADLINE_SECONDS,
    priority: 0,
    submittedAt: at,
    labels: models === null ? {} : { gpuSpec: pod.gpu_spec },
    constraints: {},
    ...(models === null || pod.num_gpu === 0 ? {} : { gpuModels: models }),
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
  if (!hasTimes(pods)) {
    throw new RangeError(
      'this pod list has no creation_time/deletion_time columns (a multi-GPU variant): it can only be replayed in saturate mode (bcs simulate --mode saturate)',
    );
  }
  const vms = nodes.map(openbVm);
  const created = (p: OpenbPod) => p.creation_time!;
  const ordered = pods
    .map((pod, index) => ({ pod, index }))
    .sort((a, b) => created(a.pod) - created(b.pod) || a.index - b.index)
    .map((p) => p.pod);
  const arrivals: Arrival[] = [];

  if (options.mode === 'live') {
    const end = Math.max(...ordered.map((p) => p.deletion_time ?? created(p)));
    for (const pod of ordered) {
      const at = SIMULATION_EPOCH_MS + created(pod) * 1000;
      // A zero-length pod still occupies its node for an instant; one second keeps it visible.
      const duration = Math.max((pod.deletion_time ?? end) - created(pod), 1);
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
    const span = created(ordered[ordered.length - 1]!) + 1;
    let submitted = 0;
    for (let cycle = 0; submitted < saturateAt * capacity; cycle++) {
      for (const pod of ordered) {
        if (submitted >= saturateAt * capacity) break;
        const at = SIMULATION_EPOCH_MS + (cycle * span + created(pod)) * 1000;
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
